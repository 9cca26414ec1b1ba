"""A Basiq user: the person a Basiq face's connections belong to, kept per tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

PROFILE_FIELDS = ("email", "mobile", "first_name", "middle_name", "last_name")


@dataclass(frozen=True, slots=True)
class BasiqProfile:
    """What a user says of themself; a user has an email or a mobile (or both)."""

    email: str | None = None
    mobile: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None


@dataclass(frozen=True, slots=True)
class BasiqUser:
    id: str
    tenant_id: str
    profile: BasiqProfile
    created_at: datetime
    updated_at: datetime
