"""Where the server keeps its data, which database it uses, and its limits.

Flags win over the environment, which wins over the defaults.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jobyard.service.runtime import Settings

DEFAULT_DATA_DIR = Path(".jobyard")


def data_dir(flag: Path | None) -> Path:
    return (flag or Path(os.environ.get("JOBYARD_DATA_DIR", DEFAULT_DATA_DIR))).resolve()


def database_url(flag: str | None, data: Path) -> str:
    url = flag or os.environ.get("JOBYARD_DATABASE_URL")
    return url or f"sqlite:///{data / 'jobyard.db'}"


def admin_key_from_env() -> str | None:
    return os.environ.get("JOBYARD_ADMIN_KEY") or None


def server_key_from_env() -> str | None:
    """The key that seals secrets at rest (32 bytes, base64url); else the data folder's file."""
    return os.environ.get("JOBYARD_SERVER_KEY") or None


def limit(flag: float | None, env: str, default: float) -> float:
    """A limit: the flag, else the environment variable `env`, else `default`; 0 or more.
    A malformed value is a ValueError that names the variable."""
    if flag is None:
        raw = os.environ.get(env, "").strip()
        if not raw:
            return default
        try:
            flag = float(raw)
        except ValueError:
            raise ValueError(f"{env} must be a number, not {raw!r}") from None
    if not 0 <= flag < math.inf:
        raise ValueError(f"{env} must be 0 or more, not {flag:g}")
    return flag


def whole_limit(flag: int | None, env: str, default: int) -> int:
    value = limit(flag, env, default)
    if value != int(value):
        raise ValueError(f"{env} must be a whole number, not {value:g}")
    return int(value)


def cors_origins(flag: str | None) -> tuple[str, ...]:
    """Comma-separated origins (`https://app.example.com`), from the flag or JOBYARD_CORS_ORIGINS;
    none by default."""
    raw = flag if flag is not None else os.environ.get("JOBYARD_CORS_ORIGINS", "")
    return tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())


def set_limits(
    settings: Settings,
    *,
    rate_per_s: float | None,
    burst: int | None,
    auth_failures_per_min: int | None,
    tails: int | None,
    polls: int | None,
    cors: str | None,
) -> None:
    """Set the limits of `settings`, each from its flag, else the environment, else the default
    `settings` holds. A malformed value is a ValueError that says which."""
    s = settings
    s.rate_limit_per_s = limit(rate_per_s, "JOBYARD_RATE_LIMIT_PER_S", s.rate_limit_per_s)
    s.rate_limit_burst = whole_limit(burst, "JOBYARD_RATE_LIMIT_BURST", s.rate_limit_burst)
    if s.rate_limit_burst < 1:
        raise ValueError("JOBYARD_RATE_LIMIT_BURST must be 1 or more")
    s.auth_failures_per_min = whole_limit(
        auth_failures_per_min, "JOBYARD_AUTH_FAILURES_PER_MIN", s.auth_failures_per_min
    )
    s.max_tails_per_key = whole_limit(tails, "JOBYARD_MAX_TAILS_PER_KEY", s.max_tails_per_key)
    s.max_polls_per_key = whole_limit(polls, "JOBYARD_MAX_POLLS_PER_KEY", s.max_polls_per_key)
    s.cors_origins = cors_origins(cors)
