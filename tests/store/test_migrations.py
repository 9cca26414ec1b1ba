"""Migrations: an empty database upgraded to head has exactly the schema of `tables.py`.

These tests start from a truly empty database (not the migrated template the `store` fixture
copies), on both backends.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from jobyard.domain.entities import NewJob, NewLogEntry
from jobyard.domain.errors import IdempotencyConflict
from jobyard.domain.ids import new_id
from jobyard.domain.states import JobStatus
from jobyard.store import Store, open_store, tables
from jobyard.store.migrate import alembic_config
from jobyard.store.sql_store import SqlStoreBase
from jobyard.store.tables import metadata
from tests.support import databases
from tests.support.checked_lines import checked

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    databases.require_pg()
    name, url = databases.create_database()
    yield url
    databases.drop_database(name)


def _revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _model_diffs(conn: Connection) -> list[Any]:
    """What alembic's autogenerate would change to make the database match `tables.metadata`.

    Types are compared (`compare_type`) without special handling: alembic compares a
    TypeDecorator through its dialect implementation, so `UtcDateTime` is FLOAT on SQLite and
    timestamptz on PostgreSQL, and `Json` is JSONB there, exactly as the migration made them.
    SQLite's reflection drops the DESC of index columns and alembic ignores `ddl_if`, so every
    DESC index and the PostgreSQL-only GIN index would show as spurious changes there; on SQLite
    indexes are left to `_index_diffs`, which is stricter anyway. What `metadata` makes on
    another dialect only (`ddl_if`) is not looked for here: SQLite's jobs keep the idempotency
    constraint they were made with (migrations 0012 and 0013).
    """

    def include(obj: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
        if type_ == "index" and conn.dialect.name == "sqlite":
            return False
        made_if = None if reflected else getattr(obj, "_ddl_if", None)
        return made_if is None or made_if.dialect in (None, conn.dialect.name)

    context = MigrationContext.configure(
        conn,
        opts={"compare_type": True, "compare_server_default": True, "include_object": include},
    )
    with warnings.catch_warnings():
        # Each database writes a generated column's expression back in its own words, which
        # alembic cannot compare (it warns): `test_a_job_s_stage_follows_its_status` checks what
        # the column computes instead.
        warnings.filterwarnings("ignore", "Computed default on jobs.stage cannot be modified")
        return list(compare_metadata(context, metadata))


def _stored_indexes(conn: Connection, schema: str) -> dict[str, str]:
    """Each index's definition as the database itself keeps it, so both sides read alike."""
    if conn.dialect.name == "sqlite":
        query = sa.text(
            f"SELECT name, sql FROM {schema}.sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        )
        return {str(n): str(d) for n, d in conn.execute(query)}
    query = sa.text(
        "SELECT indexname, replace(indexdef, ' ' || schemaname || '.', ' ') FROM pg_indexes"
        " WHERE schemaname = :schema AND indexname <> 'alembic_version_pkc'"
    )
    return {str(n): str(d) for n, d in conn.execute(query, {"schema": schema})}


def _index_diffs(conn: Connection) -> dict[str, tuple[str | None, str | None]]:
    """Indexes (with DESC columns and partial-index predicates) that differ between the
    migrated schema and one `metadata.create_all` makes beside it, rolled back afterwards."""
    try:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("ATTACH DATABASE ':memory:' AS expected")
            migrated_schema = "main"
        else:
            conn.exec_driver_sql("CREATE SCHEMA expected")
            migrated_schema = "public"
        metadata.create_all(conn.execution_options(schema_translate_map={None: "expected"}))
        migrated = _stored_indexes(conn, migrated_schema)
        expected = _stored_indexes(conn, "expected")
    finally:
        conn.rollback()
    return {
        name: (migrated.get(name), expected.get(name))
        for name in migrated.keys() | expected.keys()
        if migrated.get(name) != expected.get(name)
    }


def to(revision: str) -> Callable[[Connection], None]:
    """Migrate a connection's database to `revision` ("head", or one to go down to)."""

    def run(conn: Connection) -> None:
        cfg = alembic_config(conn)
        if revision == "head":
            command.upgrade(cfg, revision)
        else:
            command.downgrade(cfg, revision)

    return run


async def _down_and_up(store: Store, revision: str) -> tuple[str | None, list[Any], dict[str, Any]]:
    """Down to `revision`, back to head, and what `_inspect` finds then."""
    assert isinstance(store, SqlStoreBase)
    async with store.engine.begin() as conn:
        await conn.run_sync(to(revision))
        assert await conn.run_sync(_revision) == revision
    async with store.engine.begin() as conn:
        await conn.run_sync(to("head"))
    return await _inspect(store)


async def _inspect(store: Store) -> tuple[str | None, list[Any], dict[str, Any]]:
    assert isinstance(store, SqlStoreBase)
    async with store.engine.connect() as conn:
        revision = await conn.run_sync(_revision)
        diffs = await conn.run_sync(_model_diffs)
    async with store.engine.connect() as conn:
        index_diffs = await conn.run_sync(_index_diffs)
    return revision, diffs, index_diffs


async def test_an_empty_database_upgrades_to_the_tables(empty_database_url: str) -> None:
    store = open_store(empty_database_url)
    try:
        assert isinstance(store, SqlStoreBase)
        async with store.engine.connect() as conn:
            assert await conn.run_sync(_revision) is None
        await store.upgrade()
        revision, diffs, index_diffs = await _inspect(store)
    finally:
        await store.close()
    assert revision == HEAD
    assert diffs == []
    assert index_diffs == {}


async def test_upgrading_again_is_a_no_op(empty_database_url: str) -> None:
    store = open_store(empty_database_url)
    try:
        await store.upgrade()
        tenant = new_id()
        [(job, _)] = await store.job_insert_many(tenant, None, [(NewJob(type="t"), None)])
        await store.upgrade()
        revision, diffs, index_diffs = await _inspect(store)
        assert await store.job_get(tenant, job.id) == job
    finally:
        await store.close()
    assert (revision, diffs, index_diffs) == (HEAD, [], {})


async def test_nodes_starting_together_migrate_once(empty_database_url: str) -> None:
    stores = [open_store(empty_database_url) for _ in range(3)]
    try:
        await asyncio.gather(*(s.upgrade() for s in stores))
        revision, diffs, _ = await _inspect(stores[0])
    finally:
        for s in stores:
            await s.close()
    assert (revision, diffs) == (HEAD, [])


async def test_the_unchecked_log_table_goes_back_and_forth_with_its_lines(
    empty_database_url: str,
) -> None:
    """0008 drops the log lines' foreign key and second index, 0010 keeps lines in chunks, and
    their downgrades undo them; the lines, with their seqs, sources and times, stay through all."""
    store = open_store(empty_database_url)
    try:
        assert isinstance(store, SqlStoreBase)
        await store.upgrade()
        tenant = new_id()
        [(job, _)] = await store.job_insert_many(tenant, None, [(NewJob(type="t"), None)])
        when = datetime(2026, 5, 4, 3, 2, 1, 123457, tzinfo=UTC)
        await store.log_append(tenant, job.id, 1, [NewLogEntry("stdout", "kept")])
        await store.log_append(
            tenant, job.id, 1, [NewLogEntry("stderr", "also", when), NewLogEntry("stdout", "3")]
        )
        written = datetime(2026, 5, 4, 4, 0, tzinfo=UTC)
        async with store.engine.begin() as conn:  # as an update read straight writes its lines
            await conn.execute(
                tables.log_chunks.insert().values(
                    job_id=job.id,
                    first_seq=4,
                    last_seq=6,
                    tenant_id=tenant,
                    execution_number=1,
                    ts=written,
                    lines=checked(
                        {
                            "data": "offset",
                            "source": "stderr",
                            "ts": "2026-05-04T08:32:01.000005+05:30",
                        },
                        {"data": "untimed"},
                        {"data": "whole", "source": "system", "ts": "2026-05-04T03:02:01Z"},
                    )
                    .json()
                    .decode(),
                )
            )
        before = await store.log_list(tenant, job.id, after=0, limit=10)

        revision, diffs, index_diffs = await _down_and_up(store, "0007")
        lines = await store.log_list(tenant, job.id, after=0, limit=10)
    finally:
        await store.close()
    assert (revision, diffs, index_diffs) == (HEAD, [], {})
    assert [line.data for line in lines] == ["kept", "also", "3", "offset", "untimed", "whole"]
    assert lines == before
    assert [line.source for line in lines[3:]] == ["stderr", "stdout", "system"]
    assert lines[1].ts == when
    assert [line.ts for line in lines[3:]] == [
        datetime(2026, 5, 4, 3, 2, 1, 5, tzinfo=UTC),
        written,
        datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC),
    ]


async def test_executions_and_idempotency_keys_go_back_and_forth(empty_database_url: str) -> None:
    """0012 drops the executions' foreign key and, on PostgreSQL, turns the idempotency
    constraint into a unique index of the jobs that have a key; its downgrade undoes both. The
    executions stay through both, and a key still names one job after."""
    store = open_store(empty_database_url)
    try:
        assert isinstance(store, SqlStoreBase)
        await store.upgrade()
        tenant = new_id()
        made = await store.job_insert_many(
            tenant,
            None,
            [(NewJob(type="t", idempotency_key="k"), "h"), (NewJob(type="t"), None)],
        )
        before = [await store.execution_list(tenant, job.id) for job, _ in made]

        revision, diffs, index_diffs = await _down_and_up(store, "0011")
        after = [await store.execution_list(tenant, job.id) for job, _ in made]
        [(again, fresh)] = await store.job_insert_many(
            tenant, None, [(NewJob(type="t", idempotency_key="k"), "h")]
        )
        unkeyed = await store.job_insert_many(
            tenant, None, [(NewJob(type="t"), None), (NewJob(type="t"), None)]
        )
    finally:
        await store.close()
    assert (revision, diffs, index_diffs) == (HEAD, [], {})
    assert after == before
    assert [len(e) for e in after] == [1, 1]
    assert (again.id, fresh) == (made[0][0].id, False)
    assert all(fresh for _, fresh in unkeyed)


async def test_keys_of_jobs_made_before_job_keys_still_name_their_jobs(
    empty_database_url: str,
) -> None:
    """0013 moves the idempotency rule to `job_keys`, filled from the jobs already made; its
    downgrade gives the rule back to the jobs. Through both, a replayed key finds its job and a
    key reused for something else is refused."""
    store = open_store(empty_database_url)
    try:
        assert isinstance(store, SqlStoreBase)
        await store.upgrade()
        tenant, other = new_id(), new_id()
        made = await store.job_insert_many(
            tenant,
            None,
            [(NewJob(type="t", idempotency_key="k"), "h"), (NewJob(type="t"), None)],
        )
        [(elsewhere, _)] = await store.job_insert_many(
            other, None, [(NewJob(type="t", idempotency_key="k"), "h")]
        )

        revision, diffs, index_diffs = await _down_and_up(store, "0012")
        [(again, fresh)] = await store.job_insert_many(
            tenant, None, [(NewJob(type="t", idempotency_key="k"), "h")]
        )
        [(again_elsewhere, _)] = await store.job_insert_many(
            other, None, [(NewJob(type="t", idempotency_key="k"), "h")]
        )
        with pytest.raises(IdempotencyConflict):
            await store.job_insert_many(
                tenant, None, [(NewJob(type="u", idempotency_key="k"), "other")]
            )
        [(new_key, new_fresh)] = await store.job_insert_many(
            tenant, None, [(NewJob(type="t", idempotency_key="k2"), "h")]
        )
    finally:
        await store.close()
    assert (revision, diffs, index_diffs) == (HEAD, [], {})
    assert (again.id, fresh) == (made[0][0].id, False)
    assert again_elsewhere.id == elsewhere.id != again.id
    assert new_fresh
    assert new_key.id not in {made[0][0].id, made[1][0].id}


async def test_a_job_s_stage_follows_its_status(empty_database_url: str) -> None:
    """The stage the job row's indexes hold (0014) is its status, but `active` for the ones a
    job moves among while it is worked on: computed by the database, as `stage_of` says."""
    store = open_store(empty_database_url)
    try:
        assert isinstance(store, SqlStoreBase)
        await store.upgrade()
        [(job, _)] = await store.job_insert_many(new_id(), None, [(NewJob(type="t"), None)])
        stages = {}
        async with store.engine.begin() as conn:
            for status in JobStatus:
                named = tables.jobs.c.id == job.id
                await conn.execute(tables.jobs.update().where(named).values(status=status.value))
                stage = (await conn.execute(sa.select(tables.jobs.c.stage).where(named))).scalar()
                stages[status.value] = stage
    finally:
        await store.close()
    assert stages == {s.value: tables.stage_of(s.value) for s in JobStatus}
    assert {s for s, stage in stages.items() if stage == "active"} == {
        "queued",
        "in_progress",
        "canceling",
    }
