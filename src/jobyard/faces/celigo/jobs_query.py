"""`GET /jobs` query parameters, read as integrator.io defines them, turned into core filters.

Lists may be sent as `name=a&name=b`, `name[]=a` or `name[0]=a&name[1]=b` (integrator.io's own
UI sends the last form). Times are ISO 8601, a plain date, or epoch milliseconds.

Without `type` or `type_in`, integrator.io lists parent jobs (flow runs): here the jobs that have
no parent and are not of a child type. With `_flowJobId` and no type, the flow job's children.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from starlette.datastructures import QueryParams

from jobyard.api.schemas.fields import utc_time
from jobyard.domain.errors import InvalidQuery
from jobyard.domain.states import JobStatus
from jobyard.faces.celigo.ids import CHILD_TYPES, ID_LABELS
from jobyard.faces.celigo.statuses import FROM_CELIGO, RETRIABLE

MAX_RESULTS = 1001
MAX_IN = 100
MAX_VALUE = 1000  # characters of one value; ids and names are far shorter

COUNTERS = {
    "numSuccess": "num_success",
    "numError": "num_error",
    "numIgnore": "num_ignore",
    "numExport": "num_export",
    "numPagesProcessed": "num_pages",
}
LISTS = frozenset({"_flowId_in", "type_in", "status"})
SINGLES = frozenset(
    {*ID_LABELS, "_flowJobId", "createdAt_lte", "createdAt_gte", "retriable", "type"}
    | {f"{c}_{op}" for c in COUNTERS for op in ("gte", "lte")}
)
PARENT_SCOPE = frozenset(
    {"_integrationId", "_flowId", "_flowId_in", "_exportId", "_importId", "_flowJobId"}
    | {"_bulkJobId", "createdAt_gte", "createdAt_lte"}
)
_KEY = re.compile(r"^([A-Za-z_]+)(?:\[\d{0,4}\])?$")


@dataclass(slots=True)
class JobsQuery:
    """One listing: `label_sets` are alternatives (one per `_flowId_in` value), the rest ANDed.
    `statuses` None means any; an empty set matches nothing. `parents_only`: jobs without a
    parent, of no child type. Counter bounds apply to a job's own counters plus its children's,
    as integrator.io shows a flow job's."""

    label_sets: list[dict[str, str]] = field(default_factory=lambda: [{}])
    parents_only: bool = False
    parent_ids: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    statuses: frozenset[JobStatus] | None = None
    created_at_gte: datetime | None = None
    created_at_lte: datetime | None = None
    counters_gte: dict[str, int] = field(default_factory=dict)
    counters_lte: dict[str, int] = field(default_factory=dict)

    def empty(self) -> bool:
        """True when the conditions contradict each other: nothing can match."""
        return not self.label_sets or (self.statuses is not None and not self.statuses)


def _digits(raw: str) -> bool:
    """ASCII digits only: `str.isdigit` also takes superscripts, which `int` refuses."""
    return raw.isascii() and raw.isdigit()


def _time(name: str, raw: str) -> datetime:
    try:
        if _digits(raw):
            return utc_time(datetime.fromtimestamp(int(raw) / 1000, UTC))
        if len(raw) == 10:
            d = date.fromisoformat(raw)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        return utc_time(datetime.fromisoformat(raw))
    except (ValueError, OverflowError, OSError):
        message = f"{name} must be an ISO 8601 time or epoch milliseconds"
        raise InvalidQuery(message, field=name) from None


def _count(name: str, raw: str) -> int:
    if not _digits(raw) or len(raw) > 18:
        raise InvalidQuery(f"{name} must be a whole number", field=name)
    return int(raw)


def _collect(params: QueryParams) -> tuple[dict[str, str], dict[str, list[str]]]:
    singles: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    for raw_key, value in params.multi_items():
        if "\x00" in value or len(value) > MAX_VALUE:
            raise InvalidQuery(f"{raw_key} is not a valid value", field=raw_key)
        m = _KEY.match(raw_key)
        key = m.group(1) if m else raw_key
        if key in LISTS:
            values = lists.setdefault(key, [])
            values.append(value)
            if len(values) > MAX_IN:
                raise InvalidQuery(f"at most {MAX_IN} values of {key}", field=key)
        elif key in SINGLES:
            if key in singles:
                raise InvalidQuery(f"{key} may be given once", field=key)
            singles[key] = value
        else:
            raise InvalidQuery(f"unknown query parameter {raw_key!r}", field=raw_key)
    return singles, lists


def _types(singles: dict[str, str], lists: dict[str, list[str]]) -> list[str]:
    """`type` and `type_in` together: the types in both (none at all when they disagree)."""
    types = list(dict.fromkeys(lists.get("type_in", [])))
    if "type" in singles:
        types = [t for t in types or [singles["type"]] if t == singles["type"]]
    return types


def _check_scope(singles: dict[str, str], lists: dict[str, list[str]], types: list[str]) -> None:
    """integrator.io refuses unscoped listings: child jobs (export, import) need their flow job
    or their resource; every other listing (parent jobs) an integration, flow, resource, flow
    job or a creation time bound."""
    given = set(singles) | set(lists)
    if types and set(types) <= CHILD_TYPES:
        if not given & {"_flowJobId", "_exportId", "_importId"}:
            raise InvalidQuery(
                'For child jobs, query parameters must contain either "_flowJobId" or "resourceId"'
            )
    elif not given & PARENT_SCOPE:
        raise InvalidQuery(
            'For parent jobs, query parameters must contain either "_integrationId" or '
            '"_jobId" or "createdAt"'
        )


def _statuses(singles: dict[str, str], lists: dict[str, list[str]]) -> frozenset[JobStatus] | None:
    statuses: frozenset[JobStatus] | None = None
    if "status" in lists:
        found: set[JobStatus] = set()
        for name in lists["status"]:
            if name not in FROM_CELIGO:
                raise InvalidQuery(f"unknown status {name!r}", field="status")
            found |= FROM_CELIGO[name]
        statuses = frozenset(found)
    if "retriable" in singles:
        flag = singles["retriable"].lower()
        if flag not in ("true", "false"):
            raise InvalidQuery("retriable must be true or false", field="retriable")
        wanted = RETRIABLE if flag == "true" else frozenset(JobStatus) - RETRIABLE
        statuses = wanted if statuses is None else statuses & wanted
    return statuses


def parse_jobs_query(params: QueryParams) -> JobsQuery:
    singles, lists = _collect(params)
    types = _types(singles, lists)
    asked = [singles["type"]] if "type" in singles else lists.get("type_in", [])
    _check_scope(singles, lists, asked)
    q = JobsQuery(types=types, statuses=_statuses(singles, lists))
    base = {label: singles[name] for name, label in ID_LABELS.items() if name in singles}
    flows = list(dict.fromkeys(lists.get("_flowId_in", [])))
    if flows:
        key = ID_LABELS["_flowId"]
        # with `_flowId` too, only that flow (none when it is not in the list)
        q.label_sets = [{**base, key: f} for f in flows if base.get(key, f) == f]
    else:
        q.label_sets = [base]
    if asked and not types:
        q.label_sets = []  # `type` and `type_in` share no type
    if "_flowJobId" in singles:
        q.parent_ids = [singles["_flowJobId"]]
    elif not asked:
        q.parents_only = True  # integrator.io lists parent jobs unless a type asks for others
    if "createdAt_gte" in singles:
        q.created_at_gte = _time("createdAt_gte", singles["createdAt_gte"])
    if "createdAt_lte" in singles:
        q.created_at_lte = _time("createdAt_lte", singles["createdAt_lte"])
    for name, counter in COUNTERS.items():
        if f"{name}_gte" in singles:
            q.counters_gte[counter] = _count(f"{name}_gte", singles[f"{name}_gte"])
        if f"{name}_lte" in singles:
            q.counters_lte[counter] = _count(f"{name}_lte", singles[f"{name}_lte"])
    return q
