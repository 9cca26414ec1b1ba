"""Worker tests: a fresh tenant per test on the shared live server, and a folder for marks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.api import Tenant, new_tenant
from tests.support.server import Server


@pytest.fixture
def tenant(live_server: Server) -> Iterator[Tenant]:
    seen = len(live_server.log())
    yield new_tenant(live_server)
    written = live_server.log()[seen:]
    assert "Traceback" not in written, written


@pytest.fixture
def marks(tmp_path: Path) -> Path:
    folder = tmp_path / "marks"
    folder.mkdir()
    return folder
