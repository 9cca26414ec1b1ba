"""Opening a store from a database URL."""

from __future__ import annotations

from jobyard.domain.errors import InvalidInput
from jobyard.store.protocol import Store


def open_store(url: str) -> Store:
    """`sqlite:///PATH` for the embedded default, `postgresql://...` for scale-out."""
    if url.startswith("sqlite"):
        from jobyard.store.sqlite import SqliteStore

        return SqliteStore(url)
    if url.startswith(("postgresql", "postgres://")):
        from jobyard.store.postgres import PostgresStore

        return PostgresStore(url)
    raise InvalidInput("database URL must start with sqlite:/// or postgresql://", url=url)
