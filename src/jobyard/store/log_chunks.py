"""Log lines as the database keeps them: in chunks, one row for the lines of one write.

A job that logs ten lines a run would otherwise write ten rows and ten index entries besides its
own: the price of following a job was mostly that. A chunk holds the lines one update or append
brought, up to `MAX_CHUNK_LINES`, with consecutive seqs from `first_seq` to `last_seq`, as JSON
text: `[[ts, source, data], ...]`, where `ts` is microseconds since the epoch (exact, and the
same on both databases), or null for "when the chunk was written" (its `ts` column). Readers get
lines (`LogEntry`) as before; only the store knows of chunks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from jobyard.domain.entities import LogEntry, NewLogEntry

MAX_CHUNK_LINES = 1000  # an update's most (the API's bound); an append is cut to this size
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(ts: datetime) -> int:
    """`ts` as whole microseconds since the epoch."""
    return (ts - EPOCH) // _MICROSECOND


def lines_text(entries: Sequence[NewLogEntry]) -> str:
    """The JSON a chunk keeps for `entries`."""
    return orjson.dumps(
        [(None if e.ts is None else micros(e.ts), e.source, e.data) for e in entries]
    ).decode()


def pieces(first_seq: int, entries: Sequence[NewLogEntry]) -> Iterator[tuple[int, int, str]]:
    """`entries`, numbered from `first_seq`, as chunks: (first seq, last seq, lines text)."""
    for start in range(0, len(entries), MAX_CHUNK_LINES):
        part = entries[start : start + MAX_CHUNK_LINES]
        yield first_seq + start, first_seq + start + len(part) - 1, lines_text(part)


def entries_of(row: Any) -> list[LogEntry]:
    """The lines of a chunk row (`first_seq`, `execution_number`, `ts`, `lines`), in order."""
    first, number, written = int(row.first_seq), int(row.execution_number), row.ts
    return [
        LogEntry(
            seq=first + i,
            execution_number=number,
            ts=written if t is None else EPOCH + t * _MICROSECOND,
            source=source,
            data=data,
        )
        for i, (t, source, data) in enumerate(orjson.loads(row.lines))
    ]
