"""API keys and tenants on the wire. A key's secret appears in exactly one answer: its making."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from jobyard.api.schemas.base import Answer, Request
from jobyard.api.schemas.fields import AwareDatetime, Name, Text
from jobyard.domain.entities import ApiKey, Tenant

KeyType = Literal["api", "aws-sigv4"]
MAX_OVERLAP_S = 366 * 86400


class KeyIn(Request):
    name: Text = Field(min_length=1, max_length=200)
    role: Literal["admin", "member", "viewer", "worker"]
    type: KeyType = Field(
        "api",
        description="`api`: a key sent whole as `Authorization: Bearer`. `aws-sigv4`: an access "
        "key id and a secret that signs requests with AWS Signature V4.",
    )
    queues: list[Name] | None = Field(None, max_length=100)
    things: list[Name] | None = Field(
        None, max_length=100, description="The devices (things) a worker key may act for."
    )
    expires_at: AwareDatetime | None = None


class KeyRotateIn(Request):
    revoke_old_in_s: int | None = Field(
        None,
        ge=0,
        le=MAX_OVERLAP_S,
        description="When the old key ends: 0 revokes it now, n seconds from now it expires. "
        "Without it, both keys stay live.",
    )
    expires_at: AwareDatetime | None = Field(None, description="When the new key ends.")


class KeyOut(Answer):
    id: str
    name: str
    role: str
    type: str
    prefix: str
    access_key_id: str | None = Field(description="aws-sigv4 keys: the access key id.")
    subject: str = Field(description="Whom the key speaks for: its jobs are owned by it.")
    queues: list[str] | None
    things: list[str] | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> KeyOut:
        return cls(**_fields(key))


def _fields(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "role": key.role,
        "type": key.type,
        "prefix": key.prefix,
        "access_key_id": key.prefix if key.type == "aws-sigv4" else None,
        "subject": key.owner,
        "queues": key.queues,
        "things": key.things,
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "revoked_at": key.revoked_at,
    }


class KeyCreated(KeyOut):
    """A new key with its secret, in this answer only: store it now."""

    key: str | None = Field(None, description="api keys: the key itself.")
    secret_access_key: str | None = Field(None, description="aws-sigv4 keys: the secret.")

    @classmethod
    def made(cls, key: ApiKey, secret: str) -> KeyCreated:
        if key.type == "aws-sigv4":
            return cls(**_fields(key), secret_access_key=secret)
        return cls(**_fields(key), key=secret)


class KeyRotated(KeyCreated):
    old_key: KeyOut = Field(description="The key it replaces, as it is now.")


class KeyList(Answer):
    items: list[KeyOut]


class SigningKeyRotated(Answer):
    id: str = Field(description="The new URL-signing key (the `kid` of the URLs it signs).")
    retired: int = Field(description="How many keys were retired, voiding their URLs.")


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
