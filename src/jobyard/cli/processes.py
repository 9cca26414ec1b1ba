"""`jobyard serve --processes N`: N server processes sharing one listening socket.

One Python process serves on one core. On PostgreSQL, servers share nothing but the database
(claims take rows with `SKIP LOCKED`, wake-ups cross processes through `LISTEN/NOTIFY`, the
timed work is safe on every node), so N processes on one machine are N nodes on one port: the
parent binds the socket, forks the servers, hands each signal on to them and waits. Each
process keeps its own in-memory rate limits and caps, as separate nodes do.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from collections.abc import Callable
from types import FrameType


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve_in_processes(count: int, sock: socket.socket, serve: Callable[[], None]) -> int:
    """Fork `count` processes that each run `serve()` on the inherited socket; stop them all
    when this one is told to stop or when any of them ends. Answers the exit status."""
    children: list[int] = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child's exit is what the parent sees
            code = 0
            try:
                serve()
            except BaseException:
                code = 1
                raise
            finally:
                os._exit(code)
        children.append(pid)
    sock.close()

    def pass_on(sig: int, _frame: FrameType | None) -> None:
        for pid in children:
            _signal(pid, sig)

    signal.signal(signal.SIGTERM, pass_on)
    # Ctrl-C reaches the whole process group, the servers included: passing it on as well
    # would count as a second Ctrl-C, which stops them without their grace period.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    status = 0
    while children:
        try:
            pid, raw = os.wait()
        except ChildProcessError:
            break
        if pid not in children:
            continue
        children.remove(pid)
        code = os.waitstatus_to_exitcode(raw)
        if -code in (signal.SIGTERM, signal.SIGINT):
            code = 0  # uvicorn ends itself with the signal it stopped for, once stopped
        if code != 0 and status == 0:
            status = code if code > 0 else 1
            pass_on(signal.SIGTERM, None)  # one node down: stop the rest, let a supervisor see
    return status


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.kill(pid, sig)
