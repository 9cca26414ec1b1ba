"""Log lines as the database keeps them: in chunks, one row for the lines of one write.

A job that logs ten lines a run would otherwise write ten rows and ten index entries besides its
own: the price of following a job was mostly that. A chunk holds the lines one update or append
brought, up to `MAX_CHUNK_LINES`, with consecutive seqs from `first_seq` to `last_seq`, as JSON
text: `[[ts, source, data], ...]`, where `ts` is microseconds since the epoch (exact, and the
same on both databases), or null for "when the chunk was written" (its `ts` column). Lines read
straight from a worker's update (`CheckedLines`) are kept as the JSON they give, objects instead
of arrays: `[{"data": ..., "source": ..., "ts": ...}, ...]`, `source` left out for stdout and `ts`
for the chunk's time, a time in RFC 3339; making those lines into arrays cost the server more
than all the rest of their write. Readers get lines (`LogEntry`) as before; only the store knows
of chunks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import orjson

from jobyard.domain.checked_lines import CheckedLines
from jobyard.domain.entities import LogEntry, NewLogEntry

MAX_CHUNK_LINES = 1000  # an update's most (the API's bound); an append is cut to this size
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(ts: datetime) -> int:
    """`ts` as whole microseconds since the epoch."""
    return (ts - EPOCH) // _MICROSECOND


def lines_text(entries: Sequence[NewLogEntry]) -> str:
    """The JSON a chunk keeps for `entries`."""
    if isinstance(entries, CheckedLines):
        return entries.json().decode()
    return orjson.dumps(
        [(None if e.ts is None else micros(e.ts), e.source, e.data) for e in entries]
    ).decode()


def pieces(first_seq: int, entries: Sequence[NewLogEntry]) -> Iterator[tuple[int, int, str]]:
    """`entries`, numbered from `first_seq`, as chunks: (first seq, last seq, lines text)."""
    whole = len(entries) <= MAX_CHUNK_LINES  # not sliced: checked lines keep their own text
    for start in range(0, len(entries), MAX_CHUNK_LINES):
        part = entries if whole else entries[start : start + MAX_CHUNK_LINES]
        yield first_seq + start, first_seq + start + len(part) - 1, lines_text(part)


class _Line(msgspec.Struct, gc=False):
    """A line as `CheckedLines` write it."""

    data: str
    source: str = "stdout"
    ts: datetime | None = None


_CHUNK = msgspec.json.Decoder(list[tuple[int | None, str, str] | _Line])


def entries_of(row: Any) -> list[LogEntry]:
    """The lines of a chunk row (`first_seq`, `execution_number`, `ts`, `lines`), in order."""
    first, number, written = int(row.first_seq), int(row.execution_number), row.ts
    entries = []
    for seq, line in enumerate(_CHUNK.decode(row.lines), first):
        if isinstance(line, _Line):
            when, source, data = line.ts, line.source, line.data
            ts = written if when is None else when.astimezone(UTC)
        else:
            t, source, data = line
            ts = written if t is None else EPOCH + t * _MICROSECOND
        entries.append(LogEntry(seq, number, ts, source, data))
    return entries
