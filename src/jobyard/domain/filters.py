"""The filter model for listing jobs, and the opaque cursor that pages through a listing."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime

from jobyard.domain.entities import COUNTERS
from jobyard.domain.errors import InvalidQuery
from jobyard.domain.ids import is_id
from jobyard.domain.states import JobStatus

MAX_PAGE = 1000
DEFAULT_PAGE = 100


@dataclass(slots=True)
class JobFilter:
    """Every condition is ANDed; each `*_in` list is ORed within itself. Newest first."""

    statuses: list[JobStatus] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    queues: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    parent_ids: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    created_at_gte: datetime | None = None
    created_at_lte: datetime | None = None
    updated_at_gte: datetime | None = None
    updated_at_lte: datetime | None = None
    counters_gte: dict[str, int] = field(default_factory=dict)
    counters_lte: dict[str, int] = field(default_factory=dict)
    limit: int = DEFAULT_PAGE
    before_id: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_PAGE:
            raise InvalidQuery(f"limit must be between 1 and {MAX_PAGE}", field="limit")
        for name in (*self.counters_gte, *self.counters_lte):
            if name not in COUNTERS:
                raise InvalidQuery(f"unknown counter {name!r}", field=name)


def encode_cursor(last_id: str) -> str:
    """Cursors are opaque to clients so that their form may change without breaking them."""
    return base64.urlsafe_b64encode(f"v1:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidQuery("cursor is not valid", field="cursor") from None
    version, _, last_id = raw.partition(":")
    if version != "v1" or not is_id(last_id):  # a forged id must not reach the database
        raise InvalidQuery("cursor is not valid", field="cursor")
    return last_id
