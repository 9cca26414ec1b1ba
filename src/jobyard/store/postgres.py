"""The scale-out backend: PostgreSQL through asyncpg, many server nodes on one database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import create_async_engine

from jobyard.store.basiq_user_queries import BasiqUserQueries
from jobyard.store.bulk_outcomes import Columns
from jobyard.store.bulk_updates import BulkUpdates
from jobyard.store.exclusive_inserts import ExclusiveInserts
from jobyard.store.family_queries import FamilyQueries
from jobyard.store.fleet_queries import FleetQueries
from jobyard.store.log_queries import LogQueries
from jobyard.store.postgres_hot_path import PostgresHotPath
from jobyard.store.record_error_queries import RecordErrorQueries
from jobyard.store.tables import jobs
from jobyard.store.types import UtcDateTime


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def asyncpg_url(url: str) -> str:
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


class PostgresStore(
    PostgresHotPath,
    BulkUpdates,
    LogQueries,
    RecordErrorQueries,
    ExclusiveInserts,
    FamilyQueries,
    FleetQueries,
    BasiqUserQueries,
):
    """Claims take rows with `FOR UPDATE SKIP LOCKED`, so nodes and workers never wait on each
    other's picks; every deadline uses the database's `now()`."""

    dialect = "postgresql"

    def __init__(self, url: str, pool_size: int = 10) -> None:
        engine = create_async_engine(
            asyncpg_url(url),
            json_serializer=_json_dumps,
            json_deserializer=orjson.loads,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=False,
        )
        super().__init__(engine, url)
        self._pool_size = pool_size

    def _now(self) -> sa.ColumnElement[datetime]:
        return sa.type_coerce(sa.func.now(), UtcDateTime)

    def _now_plus(self, seconds: sa.ColumnElement[Any] | float) -> sa.ColumnElement[datetime]:
        secs: sa.ColumnElement[Any] = (
            sa.cast(seconds, sa.Float)
            if isinstance(seconds, sa.ColumnElement)
            else sa.literal(float(seconds), sa.Float)
        )
        interval = sa.func.make_interval(0, 0, 0, 0, 0, 0, secs)
        return sa.type_coerce(sa.func.now() + interval, UtcDateTime)

    def _per_row(self, name: str, columns: Columns, values: list[tuple[Any, ...]]) -> sa.FromClause:
        """`unnest($1::uuid[], $2::integer[], ...) AS name(columns)`: one array per column, so
        the statement reads the same for every batch size and asyncpg prepares it once. JSON
        values go in as text and are cast back (asyncpg would take a list inside the array for
        another dimension of it)."""
        arrays = []
        cols = []
        for i, (column, type_) in enumerate(columns):
            column_values = [row[i] for row in values]
            if isinstance(type_, sa.JSON):
                column_values = [None if v is None else _json_dumps(v) for v in column_values]
                type_ = sa.Text()
            arrays.append(sa.bindparam(f"{name}_{column}", column_values, type_=ARRAY(type_)))
            cols.append(sa.column(column, type_))
        unnested = (
            sa.func.unnest(*arrays)
            .table_valued(*cols)
            .render_derived(f"{name}_text", with_types=False)
        )
        return sa.select(
            *(
                sa.cast(unnested.c[column], JSONB).label(column)
                if isinstance(type_, sa.JSON)
                else unnested.c[column]
                for column, type_ in columns
            )
        ).subquery(name)

    def _label_condition(self, key: str, value: str) -> sa.ColumnElement[bool]:
        labels = sa.type_coerce(jobs.c.labels, JSONB)
        # What the partial index holds (`HAS_LABELS` in tables.py), said outright: PostgreSQL uses a
        # partial index only for a query whose conditions imply its own.
        return sa.and_(labels.contains({key: value}), labels != sa.literal_column("'{}'::jsonb"))
