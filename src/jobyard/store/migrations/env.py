"""Alembic environment: runs on the connection handed over by `jobyard.store.migrate`."""

from __future__ import annotations

from alembic import context

from jobyard.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `jobyard db upgrade`")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
