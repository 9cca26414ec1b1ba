"""Storage: the `Store` protocol at the level of job operations.

Two backends implement it: SQLite (embedded) and PostgreSQL (scale-out).
"""

from jobyard.store.factory import open_store
from jobyard.store.protocol import Store

__all__ = ["Store", "open_store"]
