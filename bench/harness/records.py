"""What every handler writes, whatever the system: one line for each job it ran.

The producer puts a key (0 .. N-1) and its clock at enqueue (`time.time()`) into each job's
input. The handler notes the clock when it starts and, as it returns, appends
`key enqueued started finished` to a file of its own process under $BENCH_RECORD_DIR, in one
`write` (atomic for a line this short, from threads or processes). The harness reads those files
the same way for every system: the keys prove that each job ran exactly once, `started -
enqueued` is the start latency, and the last `finished` stops the throughput clock.

Standard library only: the peers' processes import it too.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

RECORD_DIR_ENV = "BENCH_RECORD_DIR"
READY_PREFIX = "ready-"  # a worker process that says it is ready leaves `ready-<pid>`

_fds: dict[int, int] = {}  # pid -> descriptor; a forked child opens its own file


def _fd() -> int:
    pid = os.getpid()
    fd = _fds.get(pid)
    if fd is None:
        directory = os.environ.get(RECORD_DIR_ENV)
        if not directory:
            raise RuntimeError(f"${RECORD_DIR_ENV} is not set: where should the records go?")
        path = Path(directory) / f"{pid}.rec"
        fd = _fds[pid] = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    return fd


def record(key: int, enqueued: float, started: float) -> None:
    """The handler of job `key` (enqueued at `enqueued`, started at `started`) is done now."""
    line = f"{key} {enqueued:.6f} {started:.6f} {time.time():.6f}\n"
    os.write(_fd(), line.encode())


def mark_ready() -> None:
    """This worker process is about to take jobs (for systems whose worker has such a hook)."""
    directory = os.environ.get(RECORD_DIR_ENV)
    if directory:
        (Path(directory) / f"{READY_PREFIX}{os.getpid()}").touch()


def ready_count(directory: Path | None = None) -> int:
    """Worker processes that said they are ready, in `directory` (by default $BENCH_RECORD_DIR)."""
    where = directory or Path(os.environ[RECORD_DIR_ENV])
    return sum(1 for _ in where.glob(READY_PREFIX + "*"))


@dataclass
class Tally:
    """Counts the lines written so far, reading only what is new since the last look."""

    directory: Path
    lines: int = 0
    _offsets: dict[Path, int] = field(default_factory=dict)

    def count(self) -> int:
        for path in self.directory.glob("*.rec"):
            offset = self._offsets.get(path, 0)
            with path.open("rb") as f:
                f.seek(offset)
                chunk = f.read()
            done = chunk.rfind(b"\n") + 1  # a line being written is counted next time
            self.lines += chunk.count(b"\n", 0, done)
            self._offsets[path] = offset + done
        return self.lines


@dataclass(frozen=True, slots=True)
class Records:
    """Every line of one run, checked against the keys the producer sent."""

    expected: int
    ran: int  # distinct keys seen
    duplicates: int  # lines beyond the first for a key: a job that ran twice
    strays: int  # keys the producer never sent
    latencies_s: list[float]  # started - enqueued, one per key (its first run), in key order
    first_started: float
    last_finished: float
    processes: int  # how many worker processes ran jobs

    def latencies_from(self, first_key: int) -> list[float]:
        """The latencies of keys `first_key` and above (those below warmed the system up)."""
        return self.latencies_s[first_key:]

    @property
    def complete(self) -> bool:
        return self.ran == self.expected and not self.duplicates and not self.strays

    def problem(self) -> str:
        """Why the run does not count, in a sentence; empty when it does."""
        if self.complete:
            return ""
        parts = []
        if self.ran != self.expected:
            parts.append(f"{self.expected - self.ran} of {self.expected} jobs never ran")
        if self.duplicates:
            parts.append(f"{self.duplicates} runs beyond the first")
        if self.strays:
            parts.append(f"{self.strays} unknown keys")
        return "; ".join(parts)


def read(directory: Path, expected: int) -> Records:
    seen: dict[int, float] = {}
    duplicates = strays = processes = 0
    first_started, last_finished = float("inf"), float("-inf")
    for path in sorted(directory.glob("*.rec")):
        processes += 1
        for line in path.read_text().splitlines():
            key_s, enqueued_s, started_s, finished_s = line.split()
            key, started, finished = int(key_s), float(started_s), float(finished_s)
            if not 0 <= key < expected:
                strays += 1
                continue
            if key in seen:
                duplicates += 1
                continue
            seen[key] = started - float(enqueued_s)
            first_started = min(first_started, started)
            last_finished = max(last_finished, finished)
    return Records(
        expected=expected,
        ran=len(seen),
        duplicates=duplicates,
        strays=strays,
        latencies_s=[seen[k] for k in sorted(seen)],
        first_started=first_started,
        last_finished=last_finished,
        processes=processes,
    )
