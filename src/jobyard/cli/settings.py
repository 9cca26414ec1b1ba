"""Where the server keeps its data and which database it uses.

Flags win over the environment, which wins over the defaults.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATA_DIR = Path(".jobyard")


def data_dir(flag: Path | None) -> Path:
    return (flag or Path(os.environ.get("JOBYARD_DATA_DIR", DEFAULT_DATA_DIR))).resolve()


def database_url(flag: str | None, data: Path) -> str:
    url = flag or os.environ.get("JOBYARD_DATABASE_URL")
    return url or f"sqlite:///{data / 'jobyard.db'}"


def admin_key_from_env() -> str | None:
    return os.environ.get("JOBYARD_ADMIN_KEY") or None
