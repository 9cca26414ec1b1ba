"""Where the server is and which key to use: arguments, then environment, then the local server's
admin key file (so a client on the server's machine works without setup)."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_URL = "http://127.0.0.1:8080"
KEY_FILE = "admin.key"


def resolve_url(url: str | None) -> str:
    return (url or os.environ.get("JOBYARD_URL") or DEFAULT_URL).rstrip("/")


def resolve_key(api_key: str | None) -> str | None:
    if api_key:
        return api_key
    env = os.environ.get("JOBYARD_API_KEY")
    if env:
        return env
    data_dir = Path(os.environ.get("JOBYARD_DATA_DIR", ".jobyard"))
    try:
        return (data_dir / KEY_FILE).read_text().strip() or None
    except OSError:
        return None
