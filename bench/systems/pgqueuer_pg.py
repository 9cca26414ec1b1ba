"""PgQueuer on PostgreSQL (`bench/peers/pgqueuer_app.py` holds the entrypoint)."""

from __future__ import annotations

from bench.systems.base import Setup
from bench.systems.peer import PeerSystem


class PgQueuerPostgres(PeerSystem):
    name = "pgqueuer"
    label = "PgQueuer (PostgreSQL)"
    module = "bench.peers.pgqueuer_app"
    store = "postgres"
    libraries = ("pgqueuer", "asyncpg")

    def worker_argv(self, setup: Setup, i: int) -> list[str]:
        return [
            str(setup.peers_bin / "pgq"),
            "run",
            f"{self.module}:create",
            "--batch-size",
            str(setup.pgqueuer_batch_size),
            "--log-level",
            "WARNING",
        ]

    def settings(self, setup: Setup) -> list[str]:
        return [
            f"{setup.workers} x `pgq run --batch-size {setup.pgqueuer_batch_size}`"
            " (asyncpg driver, LISTEN/NOTIFY, durable tables: the defaults)",
            "async entrypoint",
            "producer: `Queries.enqueue` of lists (one INSERT a batch) / of one job",
        ]
