"""Worker tests: each runs on its own tenant (from `tests/conftest.py`) and keeps marks here."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def marks(tmp_path: Path) -> Path:
    folder = tmp_path / "marks"
    folder.mkdir()
    return folder
