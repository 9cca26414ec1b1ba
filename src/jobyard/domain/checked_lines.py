"""Log lines checked where they were read, which already know themselves as JSON.

A followed job's ten lines cost the server more as Python objects (a line, its time, the tuple
its chunk was written from) than reading and writing their text did. Lines read straight from
a worker's request stay in the reader's form: the store keeps their JSON as it is, and the
lines themselves are made only for those who ask for them.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import overload

from jobyard.domain.entities import NewLogEntry


class CheckedLines(Sequence[NewLogEntry]):
    """Lines that passed, where they were read, every check the service makes of an update's
    lines: a known source, no NUL, none long enough to be cut, times within the years a log
    keeps. `json()` gives them as JSON objects, `[{"data": ..., "source": ..., "ts": ...}]`,
    `source` left out for stdout and `ts` when not given, a time in RFC 3339."""

    __slots__ = ()

    @abstractmethod
    def json(self) -> bytes: ...

    @abstractmethod
    def __len__(self) -> int: ...

    @overload
    def __getitem__(self, index: int) -> NewLogEntry: ...

    @overload
    def __getitem__(self, index: slice) -> list[NewLogEntry]: ...

    @abstractmethod
    def __getitem__(self, index: int | slice) -> NewLogEntry | list[NewLogEntry]: ...

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CheckedLines | list):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal to lists, so unhashable as they are

    def __repr__(self) -> str:
        return repr(list(self))


__all__ = ["CheckedLines"]
