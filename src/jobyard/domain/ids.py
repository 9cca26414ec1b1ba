"""Identifiers: UUIDv7, time-ordered, so newest-first listing walks the primary key."""

from __future__ import annotations

import uuid

import uuid_utils


def new_id() -> str:
    return str(uuid_utils.uuid7())


def is_id(value: str) -> bool:
    """True for a canonical UUID string; anything else can name no object."""
    try:
        return str(uuid.UUID(value)) == value.lower() and len(value) == 36
    except ValueError:
        return False
