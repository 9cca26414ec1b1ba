"""API keys and tenants on the wire. A key's secret appears in exactly one answer: its creation."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from jobyard.api.schemas.base import Answer, Request
from jobyard.api.schemas.fields import AwareDatetime, Name, Text
from jobyard.domain.entities import ApiKey, Tenant


class KeyIn(Request):
    name: Text = Field(min_length=1, max_length=200)
    role: Literal["admin", "member", "viewer", "worker"]
    queues: list[Name] | None = Field(None, max_length=100)
    expires_at: AwareDatetime | None = None


class KeyOut(Answer):
    id: str
    name: str
    role: str
    prefix: str
    queues: list[str] | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> KeyOut:
        return cls.model_validate(key)


class KeyCreated(KeyOut):
    key: str = Field(description="The secret. Shown in this answer only; store it now.")


class KeyList(Answer):
    items: list[KeyOut]


class TenantIn(Request):
    name: Text = Field(min_length=1, max_length=200)


class TenantOut(Answer):
    id: str
    name: str
    created_at: datetime

    @classmethod
    def of(cls, t: Tenant) -> TenantOut:
        return cls.model_validate(t)


class TenantCreated(TenantOut):
    admin_key: str = Field(description="The tenant's first admin key, shown once.")


class TenantList(Answer):
    items: list[TenantOut]
