"""CPU time and peak memory of the processes of a run, read from Linux's /proc.

Two numbers per process are needed, and /proc has both exactly: user + system CPU time, with
that of the children it has reaped (`/proc/PID/stat`), and the peak resident set size the
kernel kept for it (`VmHWM` in `/proc/PID/status`), so nothing has to be sampled. The harness
runs in Jobyard's own environment, which has no psutil; these few lines are all it would add.

A group (the workers, say) is a set of root pids with all their descendants: a Celery pool's
children count with their parent, and a child that exits and is reaped moves its time into its
parent's, so the group's total stays whole.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses; fields follow the last ")"
    return raw[raw.rindex(")") + 2 :].split()


def cpu_s(pid: int) -> float:
    """User + system seconds of `pid` and of the children it has reaped; 0 once it is gone."""
    f = _stat_fields(pid)
    if f is None:
        return 0.0
    # after "state" (f[0]): utime, stime, cutime, cstime are fields 14-17 of the whole line
    return sum(int(x) for x in f[11:15]) * TICK_S


def peak_rss_mb(pid: int) -> float:
    """The most memory `pid` ever held resident (VmHWM); 0 once it is gone."""
    try:
        status = (PROC / str(pid) / "status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _parents() -> dict[int, int]:
    parents: dict[int, int] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            f = _stat_fields(int(entry.name))
            if f is not None:
                parents[int(entry.name)] = int(f[1])
    return parents


def descendants(roots: Iterable[int]) -> list[int]:
    """`roots` (those still running) and every process below them."""
    parents = _parents()
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    found: list[int] = []
    todo = [r for r in roots if r in parents]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def children_running(parent: int, marker: str) -> list[int]:
    """Direct children of `parent` whose command line holds `marker`."""
    found = []
    for pid, ppid in _parents().items():
        if ppid != parent:
            continue
        try:
            cmdline = (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ")
        except (FileNotFoundError, ProcessLookupError):
            continue
        if marker.encode() in cmdline:
            found.append(pid)
    return found


@dataclass
class Group:
    """Processes counted together. A tree is its roots with all their descendants; otherwise
    `list_pids` names the members each time they are read (database backends, which come and
    go and are not our children)."""

    list_pids: Callable[[], list[int]]
    tree: bool = True

    @classmethod
    def of(cls, roots: Iterable[int]) -> Group:
        fixed = list(roots)
        return cls(lambda: descendants(fixed))

    def members(self) -> list[int]:
        return self.list_pids()


@dataclass
class CpuClock:
    """CPU seconds spent by each group between `start()` and `stop()`."""

    groups: dict[str, Group]
    _start: dict[str, dict[int, float]] = field(default_factory=dict)

    def _read(self) -> dict[str, dict[int, float]]:
        return {name: {p: cpu_s(p) for p in g.members()} for name, g in self.groups.items()}

    def start(self) -> None:
        self._start = self._read()

    def stop(self) -> dict[str, float]:
        end = self._read()
        spent: dict[str, float] = {}
        for name, now in end.items():
            before = self._start.get(name, {})
            if self.groups[name].tree:  # the whole tree then and now: reaped children included
                spent[name] = sum(now.values()) - sum(before.values())
            else:  # loose processes: each from its own start (0 for one that came later)
                spent[name] = sum(v - before.get(p, 0.0) for p, v in now.items())
        return spent


def peak_rss_of(group: Group) -> float:
    """Sum of the peaks of the group's running processes, in MB (each its own peak)."""
    return sum(peak_rss_mb(p) for p in group.members())
