"""A live server for the SDK tests (SQLite: the SDK does not care which store is behind it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.api import Tenant, new_tenant
from tests.support.server import Server, start_server


@pytest.fixture(scope="package")
def sdk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("sdk")
    srv = start_server(f"sqlite:///{data_dir / 'jobyard.db'}", data_dir)
    yield srv
    srv.stop()


@pytest.fixture
def tenant(sdk_server: Server) -> Tenant:
    return new_tenant(sdk_server)
