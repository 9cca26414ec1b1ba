"""Many rows in one statement as plain parameters: a `VALUES` list of a few fixed sizes.

`executemany` runs its statement once a row: binds the row, steps, resets, and gives the
interpreter up and takes it back around each step; for a batch of 250 ends that was most of the
jobs' statement (store-level, 15 µs a job, against 8.5 as one statement). JSON rows read back
with `json_each` cost SQLite a parse of the row for each column (3.40 keeps none). So a batch's
rows travel as numbered parameters of one statement, padded with empty rows (all NULL, matching
nothing) to a power of two, so that a handful of statement texts serve every batch and stay
prepared in the connection's cache.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any

MAX_ROWS = 256  # the most rows a statement takes (its parameters within SQLite's limit)


def padded_size(n: int) -> int:
    """The rows a statement for `n` rows (1..MAX_ROWS) takes: the power of two at or above."""
    return 1 << max(0, (n - 1).bit_length())


@cache
def relation(names: tuple[str, ...], rows: int, first: int) -> str:
    """`rows` rows of parameters, numbered from `first`, as a relation with these columns."""
    width = len(names)
    values = ", ".join(
        "(" + ", ".join(f"?{first + r * width + c}" for c in range(width)) + ")"
        for r in range(rows)
    )
    columns = ", ".join(f"column{c + 1} AS {name}" for c, name in enumerate(names))
    return f"(SELECT {columns} FROM (VALUES {values}))"  # noqa: S608 -- our own names


def pieces(
    db: sqlite3.Connection, rows: Sequence[tuple[Any, ...]], fixed: int
) -> Iterator[tuple[int, list[Any]]]:
    """`rows` in pieces of at most MAX_ROWS (fewer if the build allows fewer parameters, with
    `fixed` of them taken by the statement's own), each as its padded size and its parameters
    flattened, empty rows (all NULL) at the end."""
    if not rows:
        return
    width = len(rows[0])
    room = max(1, (db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) - fixed) // width)
    most = min(MAX_ROWS, 1 << (room.bit_length() - 1))
    for start in range(0, len(rows), most):
        piece = rows[start : start + most]
        size = padded_size(len(piece))
        params = [value for row in piece for value in row]
        params.extend([None] * (width * (size - len(piece))))
        yield size, params


__all__ = ["MAX_ROWS", "padded_size", "pieces", "relation"]
