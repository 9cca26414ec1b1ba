"""API keys: made random, shown once, stored as a SHA-256 hash, found by their prefix id.

Keys carry 256 bits of randomness, so a fast hash is enough: there is nothing to brute-force
that a slow hash would protect (unlike passwords).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from jobyard.domain.entities import ApiKey
from jobyard.domain.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from jobyard.domain.ids import is_id, new_id
from jobyard.service.permissions import DESCRIPTIONS, Op, Role, allowed
from jobyard.store.protocol import Store

KEY_PREFIX = "jy_"
MIN_CUSTOM_KEY = 32


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a key's tenant, id and role."""

    tenant_id: str
    key_id: str
    role: Role
    is_system: bool = False
    queues: tuple[str, ...] | None = None
    things: tuple[str, ...] | None = None
    subject: str = ""  # whom the key speaks for (jobs are owned by it); "" means key_id

    @property
    def owner(self) -> str:
        return self.subject or self.key_id

    def require(self, op: Op) -> None:
        if not allowed(self.role, op):
            raise Forbidden(f"a {self.role.value} key may not {DESCRIPTIONS[op]}")
        if op is Op.TENANT_MANAGE and not self.is_system:
            raise Forbidden("only the system admin key may manage tenants")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def lookup_id(key: str) -> str:
    """The part of a key used to find its row. Jobyard's own keys carry it in clear
    (`jy_<16 hex>_<secret>`); a key set by the operator is found by a digest instead."""
    if key.startswith(KEY_PREFIX):
        head = key[len(KEY_PREFIX) : len(KEY_PREFIX) + 16]
        if len(head) == 16 and key[len(KEY_PREFIX) + 16 : len(KEY_PREFIX) + 17] == "_":
            return KEY_PREFIX + head
    return "env_" + hash_key(key)[:16]


def generate_key() -> str:
    return f"{KEY_PREFIX}{secrets.token_hex(8)}_{secrets.token_urlsafe(32)}"


class AuthService:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise Unauthenticated()
        key = await self.store.key_get_by_prefix(lookup_id(token))
        if key is None or not hmac.compare_digest(key.secret_hash, hash_key(token)):
            raise Unauthenticated("the API key is not valid")
        # The server's clock, not the database's: saves a round trip on every request, and a
        # key's expiry is a matter of minutes, not of the milliseconds between the two clocks.
        now = datetime.now(UTC)
        if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
            raise Unauthenticated("the API key is revoked or expired")
        return Principal(
            tenant_id=key.tenant_id,
            key_id=key.id,
            role=Role(key.role),
            is_system=key.is_system,
            queues=tuple(key.queues) if key.queues is not None else None,
            things=tuple(key.things) if key.things is not None else None,
            subject=key.owner,
        )

    async def create_key(
        self,
        tenant_id: str,
        name: str,
        role: Role,
        *,
        secret: str | None = None,
        is_system: bool = False,
        queues: list[str] | None = None,
        expires_at: datetime | None = None,
    ) -> tuple[ApiKey, str]:
        """Make a key and answer it with its secret, which is never stored nor shown again."""
        if secret is not None and len(secret) < MIN_CUSTOM_KEY:
            raise InvalidInput(f"a key must have at least {MIN_CUSTOM_KEY} characters")
        token = secret or generate_key()
        key = ApiKey(
            id=new_id(),
            tenant_id=tenant_id,
            name=name,
            role=role.value,
            created_at=await self.store.now(),
            prefix=lookup_id(token),
            secret_hash=hash_key(token),
            is_system=is_system,
            queues=queues,
            expires_at=expires_at,
        )
        await self.store.key_insert(key)
        return key, token

    async def list_keys(self, principal: Principal) -> list[ApiKey]:
        principal.require(Op.KEY_MANAGE)
        return await self.store.key_list(principal.tenant_id)

    async def revoke_key(self, principal: Principal, key_id: str) -> ApiKey:
        principal.require(Op.KEY_MANAGE)
        key = await self.store.key_revoke(principal.tenant_id, key_id) if is_id(key_id) else None
        if key is None:
            raise NotFound("key not found", key_id=key_id)
        return key
