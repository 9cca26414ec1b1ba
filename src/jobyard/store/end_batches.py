"""Which batches of worker updates a backend's hot path may take: ends that need no decision.

Both backends write such a batch in a few hand-written statements (`postgres_hot_path.py`,
`sqlite_hot_path.py`); every other batch takes the general path in `bulk_updates.py`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from jobyard.domain.entities import ExecutionUpdate
from jobyard.domain.states import ExecutionStatus
from jobyard.domain.steps import merge_steps
from jobyard.store.log_chunks import MAX_CHUNK_LINES

ES = ExecutionStatus
PLAIN_FINAL = frozenset({ES.SUCCEEDED, ES.REJECTED})  # no retry to decide: SQL alone ends them


def end_kind(updates: list[ExecutionUpdate]) -> Literal["plain", "followed"] | None:
    """ "plain" when every update only ends its execution as succeeded or rejected (no retry
    to decide), each execution named once; "followed" when some also carry steps, progress,
    counters or log lines (no more than one chunk's); None for the general path (record errors,
    a process's identity, a lease, another status)."""
    seen: set[tuple[str, int]] = set()
    followed = False
    for u in updates:
        key = (u.job_id, u.execution_number)
        if (
            u.status not in PLAIN_FINAL
            or key in seen
            or u.record_errors
            or u.pid is not None
            or u.hostname is not None
            or u.lease_s is not None
            or (u.logs is not None and len(u.logs) > MAX_CHUNK_LINES)
        ):
            return None
        followed = followed or bool(u.logs) or u.follows()
        seen.add(key)
    if not updates:
        return None
    return "followed" if followed else "plain"


def if_latest(jobs: str, column: str, value: str) -> str:
    """SQL that sets a job's `column` (the jobs table named `jobs`) to `value` while the ended
    execution (the row named `d`) is its job's latest, as the general path writes only then,
    and leaves it as it is otherwise."""
    latest = f"{jobs}.attempts = d.execution_number"
    return f"{column} = CASE WHEN {latest} THEN {value} ELSE {jobs}.{column} END"


# Where a step's time goes in `FreshSteps(None)`'s text: a character JSON text written by orjson
# holds nowhere else (it escapes every control character in strings), for the database to
# replace with the time of its write.
STAMP = "\x01"
_STAMPED = ("started_at", "completed_at")
_SOME_TIME = datetime(2000, 1, 1, tzinfo=UTC)


class FreshSteps:
    """The steps of jobs that declared none, after their reports, as JSON text: merged once
    for alike reports (a batch's jobs of one type mostly report alike), all stamped `stamp`,
    or, with None, left for the database to stamp: `STAMP` where the time goes."""

    def __init__(self, stamp: datetime | None) -> None:
        self.stamp = stamp
        self._made: dict[bytes, str] = {}

    def text(self, reports: list[dict[str, Any]]) -> str:
        key = orjson.dumps(reports)
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = orjson.dumps(self._steps(reports)).decode()
        return made

    def _steps(self, reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.stamp is not None:
            return merge_steps([], reports, self.stamp)
        steps = merge_steps([], reports, _SOME_TIME)  # every time in them is this one
        stamp = orjson.Fragment(f'"{STAMP}"'.encode())
        for step in steps:
            for name in _STAMPED:
                if step[name] is not None:
                    step[name] = stamp
        return steps


__all__ = ["PLAIN_FINAL", "STAMP", "FreshSteps", "end_kind", "if_latest"]
