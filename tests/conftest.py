"""Fixtures shared by the whole suite: a database per test on each backend, and real servers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from jobyard.store import Store, open_store
from tests.support import databases, leaks
from tests.support.api import Tenant, new_tenant
from tests.support.server import Server, start_server

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated PostgreSQL database that each test's database is copied from."""
    databases.require_pg()
    name, url = databases.create_database()
    import asyncio

    async def migrate() -> None:
        store = open_store(url)
        try:
            await store.upgrade()
        finally:
            await store.close()

    asyncio.run(migrate())
    yield name
    databases.drop_database(name)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """An empty PostgreSQL database of its own, for one test."""
    databases.require_pg()
    name, url = databases.create_database()
    yield url
    databases.drop_database(name)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database on each backend, for one test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'jobyard.db'}"
        return
    template = request.getfixturevalue("pg_template")
    name, url = databases.create_database(template)
    yield url
    databases.drop_database(name)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    s = open_store(database_url)
    await s.upgrade()
    yield s
    await s.close()


@pytest.fixture(scope="session", params=BACKENDS)
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One real server per backend for the whole run, on databases of this run alone.

    Starting `jobyard serve` takes seconds, so suites share it and isolate by tenant instead.
    Once stopped, after all the run's traffic, its database must hold none of the secrets it
    handed out in clear (`tests/support/leaks.py`).
    """
    data_dir = tmp_path_factory.mktemp(f"live-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{data_dir / 'jobyard.db'}"
        srv = start_server(url, data_dir)
        yield srv
        srv.stop()
        leaks.check_stopped_server(srv.url, data_dir, url)
        return
    name, url = databases.create_database(request.getfixturevalue("pg_template"))
    srv = start_server(url, data_dir)
    yield srv
    srv.stop()
    try:
        leaks.check_stopped_server(srv.url, data_dir, url)
    finally:
        databases.drop_database(name)


@pytest.fixture
def tenant(live_server: Server) -> Iterator[Tenant]:
    """A new tenant; afterwards, the server must have logged no traceback (no 500, no crash)."""
    seen = len(live_server.log())
    yield new_tenant(live_server)
    written = live_server.log()[seen:]
    assert "Traceback" not in written, written
    assert live_server.process.poll() is None, "the server exited"


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    """A real `jobyard serve` process on the test's database, stopped afterwards; then its
    database must hold none of the secrets it handed out in clear."""
    srv = start_server(database_url, tmp_path / "data")
    yield srv
    srv.stop()
    leaks.check_stopped_server(srv.url, tmp_path / "data", database_url)
