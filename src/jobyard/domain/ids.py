"""Identifiers: UUIDv7, time-ordered, so newest-first listing walks the primary key."""

from __future__ import annotations

import re

import uuid_utils

# What `str(uuid.UUID(value))` gives back unchanged: 8-4-4-4-12 lowercase hex digits.
_CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def new_id() -> str:
    return str(uuid_utils.uuid7())


def is_id(value: str) -> bool:
    """True for a canonical (lowercase) UUID string; anything else can name no object.

    Upper case is refused too: SQLite keeps ids as lowercase hex and PostgreSQL as `uuid`, so
    only the canonical spelling finds the same job on both backends.
    """
    return isinstance(value, str) and _CANONICAL.fullmatch(value) is not None
