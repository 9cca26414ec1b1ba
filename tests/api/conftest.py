"""The API tests' clients: each test's tenant (from `tests/conftest.py`) as an HTTP client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.api import Tenant, new_tenant
from tests.support.server import Server


@pytest.fixture
def client(tenant: Tenant) -> Iterator[httpx.Client]:
    """The test tenant's admin, over HTTP."""
    with tenant.client() as c:
        yield c


@pytest.fixture
def other_tenant(live_server: Server) -> Tenant:
    """A second tenant on the same server, to prove nothing crosses between tenants."""
    return new_tenant(live_server)
