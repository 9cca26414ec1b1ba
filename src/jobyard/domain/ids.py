"""Identifiers: UUIDv7, time-ordered, so newest-first listing walks the primary key."""

from __future__ import annotations

import uuid

import uuid_utils


def new_id() -> str:
    return str(uuid_utils.uuid7())


def is_id(value: str) -> bool:
    """True for a canonical (lowercase) UUID string; anything else can name no object.

    Upper case is refused too: SQLite keeps ids as lowercase hex and PostgreSQL as `uuid`, so
    only the canonical spelling finds the same job on both backends.
    """
    try:
        return len(value) == 36 and str(uuid.UUID(value)) == value
    except ValueError:
        return False
