"""Basiq's filter expressions, for a user's jobs: `?filter=connection.id.eq('ab63cd')`.

A filter is conditions separated by commas, all required together: `<property>.<op>('<value>')`,
or `.bt('<from>','<to>')` for a range (both ends included). For jobs Basiq filters by
`connection.id`; the face also takes `institution.id` (both with `eq`) and the job's `created`
and `updated` times (`job.created`, `job.updated`) with `eq`, `gt`, `gteq`, `lt`, `lteq` and
`bt`, a value being a date (`2024-01-31`, the whole day) or an ISO 8601 time (UTC if no zone).
Anything else is refused with 400 `parameter-not-valid`, naming the parameter `filter`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from jobyard.faces.basiq.errors import BasiqError

TERM = re.compile(
    r"\s*(?P<prop>[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*)"
    r"\.(?P<op>eq|ne|gt|gteq|lt|lteq|bt)"
    r"\(\s*'(?P<a>[^']*)'\s*(?:,\s*'(?P<b>[^']*)'\s*)?\)\s*(?P<end>,|$)"
)
LABELS = {"connection.id": "connection_id", "institution.id": "institution_id"}
TIMES = {
    "job.created": "created",
    "created": "created",
    "job.updated": "updated",
    "updated": "updated",
}
ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")  # ids as the face makes and takes them
MAX_FILTER = 2000
TICK = timedelta(microseconds=1)


@dataclass(slots=True)
class JobsQuery:
    labels: dict[str, str] = field(default_factory=dict)
    gte: dict[str, datetime] = field(default_factory=dict)  # "created" / "updated" -> bound
    lte: dict[str, datetime] = field(default_factory=dict)
    empty: bool = False  # contradictory conditions: nothing can match

    def at_least(self, name: str, value: datetime) -> None:
        self.gte[name] = max(value, self.gte.get(name, value))

    def at_most(self, name: str, value: datetime) -> None:
        self.lte[name] = min(value, self.lte.get(name, value))


def _bad(detail: str) -> BasiqError:
    return BasiqError(detail, parameter="filter")


def _span(text: str) -> tuple[datetime, datetime]:
    """The first and last instant a value names: a whole day for a date, else one instant."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            start = datetime.combine(day, time(), UTC)
            return start, start + timedelta(days=1) - TICK
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(f"'{value[:40]}' is not a date or time") from None
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at, at


def _time_condition(query: JobsQuery, name: str, op: str, a: str, b: str | None) -> None:
    first, last = _span(a)
    if op == "eq":
        query.at_least(name, first)
        query.at_most(name, last)
    elif op == "gt":
        query.at_least(name, last + TICK)
    elif op == "gteq":
        query.at_least(name, first)
    elif op == "lt":
        query.at_most(name, first - TICK)
    elif op == "lteq":
        query.at_most(name, last)
    elif op == "bt":
        if b is None:
            raise _bad("bt takes two values: bt('<from>','<to>')")
        query.at_least(name, first)
        query.at_most(name, _span(b)[1])
    else:
        raise _bad(f"{op} is not supported for {name}")


def parse(text: str | None) -> JobsQuery:
    query = JobsQuery()
    if text is None or not text.strip():
        return query
    if len(text) > MAX_FILTER:
        raise _bad(f"a filter has at most {MAX_FILTER} characters")
    pos = 0
    while pos < len(text):
        m = TERM.match(text, pos)
        if m is None:
            raise _bad("the filter is malformed: expected <property>.<condition>('<value>')")
        prop, op, a, b = m["prop"], m["op"], m["a"], m["b"]
        if prop in LABELS:
            if op != "eq" or b is not None:
                raise _bad(f"{prop} can only be filtered with eq")
            label = LABELS[prop]
            if not ID.match(a) or query.labels.get(label, a) != a:  # names nothing stored
                query.empty = True
            query.labels[label] = a
        elif prop in TIMES:
            _time_condition(query, TIMES[prop], op, a, b)
        else:
            raise _bad(f"jobs cannot be filtered by {prop}")
        pos = m.end()
        if m["end"] == "," and pos >= len(text):
            raise _bad("the filter ends with a comma")
    for name, low in query.gte.items():
        if name in query.lte and query.lte[name] < low:
            query.empty = True
    return query
