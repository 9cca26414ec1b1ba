"""How soon a thread waiting for the interpreter's lock gets it, in `jobyard serve`.

On SQLite the server writes on a thread of its own (`store/sqlite_writes.py`), which holds
SQLite's one write lock for the whole of a transaction while the event loop's thread reads
requests. `sqlite3` lets go of the GIL around every step of a statement (each row a RETURNING
answers, the commit), and on a busy server the loop's thread is waiting for it and takes it:
the writer then waits to have it back, at CPython's default switch interval up to 5 ms, with
the write lock still held. Measured on the benchmark's machine, the writer's transactions took
twice their CPU time, about 4 ms a wait; at 0.5 ms about 1.4 ms, and a run of followed jobs on
SQLite drained 17% faster (plain jobs 5 to 10%). A process with one busy thread (the server on
PostgreSQL) never waits for the lock, and the setting costs it nothing.
"""

from __future__ import annotations

import sys

SWITCH_INTERVAL_S = 0.0005  # CPython's default: 0.005


def hand_over_soon() -> None:
    """Have a thread that holds the GIL give it up within `SWITCH_INTERVAL_S` to one waiting."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
