"""The command line each peer's module answers, so the harness drives them all alike:

    python -m bench.peers.<module> prepare        # a fresh queue: schema installed, keys gone
    python -m bench.peers.<module> ready N        # until N worker processes wait for jobs
    python -m bench.peers.<module> verify N       # until the system says N jobs succeeded
    python -m bench.peers.<module> produce ...    # the producer (bench.harness.produce)
    python -m bench.peers.<module> cleanup        # what `prepare` made, gone again

`ready` and `verify` ask again every 0.2 s and give up after a while: a worker needs a moment
to register, and a system may note a job's end a moment after its handler returned.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bench.harness import produce

Check = Callable[[int], "str | Awaitable[str]"]  # "" when satisfied, else what is missing


@dataclass(frozen=True, slots=True)
class Peer:
    connect: produce.Connect
    prepare: Callable[[], Awaitable[None] | None]
    ready: Check
    verify: Check
    cleanup: Callable[[], Awaitable[None] | None] = lambda: None


def _call(fn: Callable[..., object], *args: object) -> object:
    result = fn(*args)
    if inspect.isawaitable(result):
        return asyncio.run(_await(result))
    return result


async def _await(aw: Awaitable[object]) -> object:
    return await aw


def _until(check: Check, n: int, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    while True:
        missing = str(_call(check, n))
        if not missing:
            return 0
        if time.monotonic() > deadline:
            print(missing, file=sys.stderr)
            return 1
        time.sleep(0.2)


def main(peer: Peer, argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    command, rest = args[0], args[1:]
    if command == "produce":
        return produce.main(peer.connect, rest)
    if command == "prepare":
        _call(peer.prepare)
        return 0
    if command == "cleanup":
        _call(peer.cleanup)
        return 0
    if command in ("ready", "verify"):
        n = int(rest[0])
        return _until(
            peer.ready if command == "ready" else peer.verify, n, 60 if command == "ready" else 30
        )
    print(f"unknown command {command!r}\n{__doc__}", file=sys.stderr)
    return 2
