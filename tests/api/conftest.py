"""One real server per backend for the whole API suite, and a fresh tenant for every test.

Starting `jobyard serve` takes about two seconds, so the API tests share a server per backend
(on a database of this run alone) and isolate themselves by tenant instead.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support import databases
from tests.support.api import Tenant, new_tenant
from tests.support.server import Server, start_server

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session", params=BACKENDS)
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp(f"api-{request.param}")
    if request.param == "sqlite":
        srv = start_server(f"sqlite:///{data_dir / 'jobyard.db'}", data_dir)
        yield srv
        srv.stop()
        return
    name, url = databases.create_database(request.getfixturevalue("pg_template"))
    srv = start_server(url, data_dir)
    yield srv
    srv.stop()
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
def client(tenant: Tenant) -> Iterator[httpx.Client]:
    """The test tenant's admin, over HTTP."""
    with tenant.client() as c:
        yield c


@pytest.fixture
def other_tenant(live_server: Server) -> Tenant:
    """A second tenant on the same server, to prove nothing crosses between tenants."""
    return new_tenant(live_server)
