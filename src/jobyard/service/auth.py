"""API keys: made random, shown once, stored as a SHA-256 hash, found by their prefix id.

Keys carry 256 bits of randomness, so a fast hash is enough: there is nothing to brute-force
that a slow hash would protect (unlike passwords).

Two types: `api` keys travel whole as `Authorization: Bearer <key>`; `aws-sigv4` keys are an
access key id and a secret that signs each request (AWS Signature V4) and never travels. The
server needs that secret to check signatures, so it keeps it sealed under the server key
(besides its hash). Rotation makes a new key with the old one's subject, so it keeps its jobs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from jobyard.domain.entities import ApiKey
from jobyard.domain.errors import (
    AwsAuthError,
    Forbidden,
    InvalidInput,
    NotFound,
    ServerKeyError,
    Unauthenticated,
)
from jobyard.domain.ids import is_id, new_id
from jobyard.service import sigv4
from jobyard.service.permissions import DESCRIPTIONS, Op, Role, allowed
from jobyard.service.secret_box import SecretBox
from jobyard.store.protocol import Store

KEY_PREFIX = "jy_"
MIN_CUSTOM_KEY = 32
API = "api"
SIGV4 = "aws-sigv4"
KEY_TYPES = (API, SIGV4)
ACCESS_KEY_PREFIX = "JYAK"  # then 16 base32 characters, as AWS's access key ids look
SECRET_ACCESS_KEY_BYTES = 30  # 40 characters of base64url

# What `authenticate` takes: a bearer key, or a request signed with AWS Signature V4.
Credentials = str | sigv4.HttpRequest


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

    @property
    def holder(self) -> str | None:
        """For a worker key, the subject its claims are held by: it may write to those only.
        Admin keys may write to any execution of the tenant."""
        return self.owner if self.role is Role.WORKER else None

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


def generate_access_key() -> tuple[str, str]:
    """An access key id (`JYAK` + 16 base32 characters) and its 40-character secret."""
    key_id = ACCESS_KEY_PREFIX + base64.b32encode(secrets.token_bytes(10)).decode()
    return key_id, secrets.token_urlsafe(SECRET_ACCESS_KEY_BYTES)


def _sealed_for(key: ApiKey) -> str:
    """Where a key's sealed secret belongs: it opens for this key's row only."""
    return f"api-key/{key.tenant_id}/{key.id}"


def _live(key: ApiKey, now: datetime) -> bool:
    return key.revoked_at is None and (key.expires_at is None or key.expires_at > now)


def _principal(key: ApiKey) -> Principal:
    return Principal(
        tenant_id=key.tenant_id,
        key_id=key.id,
        role=Role(key.role),
        is_system=key.is_system,
        queues=tuple(key.queues) if key.queues is not None else None,
        things=tuple(key.things) if key.things is not None else None,
        subject=key.owner,
    )


KEY_CACHE_S = 2.0  # how long a node trusts a key it has read (revoked elsewhere: this late)
KEY_CACHE_SIZE = 10_000


class AuthService:
    def __init__(self, store: Store, box: SecretBox) -> None:
        self.store = store
        self.box = box
        self._recent: dict[str, tuple[float, ApiKey]] = {}

    async def _key(self, prefix: str) -> ApiKey | None:
        """The key with `prefix`, as read within the last `KEY_CACHE_S` seconds: a worker's
        requests would otherwise each cost a read of its key. Its expiry and revocation are
        judged on every request all the same; a key this node revokes or rotates is read
        again at once (`_forget`), one revoked through another node within the interval."""
        now = time.monotonic()
        hit = self._recent.get(prefix)
        if hit is not None and now - hit[0] < KEY_CACHE_S:
            return hit[1]
        key = await self.store.key_get_by_prefix(prefix)
        if key is None:
            self._recent.pop(prefix, None)
            return None
        if len(self._recent) >= KEY_CACHE_SIZE:
            self._recent.clear()
        self._recent[prefix] = (now, key)
        return key

    def _forget(self, key: ApiKey) -> None:
        self._recent.pop(key.prefix, None)

    async def authenticate(self, token: Credentials | None) -> Principal:
        if isinstance(token, sigv4.HttpRequest):
            return await self._authenticate_signed(token)
        if not token:
            raise Unauthenticated()
        key = await self._key(lookup_id(token))
        if (
            key is None
            or key.type != API
            or not hmac.compare_digest(key.secret_hash, hash_key(token))
        ):
            raise Unauthenticated("the API key is not valid")
        # The server's clock, not the database's: saves a round trip on every request, and a
        # key's expiry is a matter of minutes, not of the milliseconds between the two clocks.
        if not _live(key, datetime.now(UTC)):
            raise Unauthenticated("the API key is revoked or expired")
        return _principal(key)

    async def authenticate_key_id(self, tenant_id: str, key_id: str) -> Principal:
        """The principal of an `api` key named by its tenant and id, as long as the key lives:
        for credentials derived from a key (an access token), which die with it."""
        key = await self.store.key_get(tenant_id, key_id) if is_id(key_id) else None
        if key is None or key.type != API:
            raise Unauthenticated("the API key is not valid")
        if not _live(key, datetime.now(UTC)):
            raise Unauthenticated("the API key is revoked or expired")
        return _principal(key)

    async def _authenticate_signed(self, request: sigv4.HttpRequest) -> Principal:
        """A request signed with an aws-sigv4 key's secret; refused in AWS's terms."""
        auth = sigv4.parse_authorization(next(iter(request.values("authorization")), ""))
        if request.values("x-amz-security-token"):
            raise AwsAuthError(sigv4.UNRECOGNIZED, "temporary credentials are not accepted")
        key = await self._key(auth.access_key_id)
        now = datetime.now(UTC)
        if key is None or key.type != SIGV4 or key.secret_enc is None or not _live(key, now):
            message = "the access key id is unknown, revoked or expired"
            raise AwsAuthError(sigv4.UNRECOGNIZED, message)
        secret = self.box.open(key.secret_enc, _sealed_for(key))
        if not hmac.compare_digest(key.secret_hash, hash_key(secret)):
            raise ServerKeyError("a stored access key secret does not match its hash")
        sigv4.verify(request, auth, secret, now)
        return _principal(key)

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
        key_type: str = API,
        things: list[str] | None = None,
        subject: str | None = None,
    ) -> tuple[ApiKey, str]:
        """Make a key and answer it with its secret, shown this once: the whole key for an api
        key, the secret access key for an aws-sigv4 key (whose access key id is its `prefix`)."""
        if key_type not in KEY_TYPES:
            raise InvalidInput("type must be api or aws-sigv4", field="type")
        if secret is not None and (key_type != API or len(secret) < MIN_CUSTOM_KEY):
            raise InvalidInput(f"a key must have at least {MIN_CUSTOM_KEY} characters")
        if key_type == SIGV4:
            prefix, token = generate_access_key()
        else:
            token = secret or generate_key()
            prefix = lookup_id(token)
        key = ApiKey(
            id=new_id(),
            tenant_id=tenant_id,
            name=name,
            role=role.value,
            created_at=await self.store.now(),
            prefix=prefix,
            secret_hash=hash_key(token),
            is_system=is_system,
            queues=queues,
            expires_at=expires_at,
            type=key_type,
            subject=subject,
            things=things,
        )
        if key_type == SIGV4:
            key.secret_enc = self.box.seal(token, _sealed_for(key))
        await self.store.key_insert(key)
        return key, token

    async def rotate_key(
        self,
        principal: Principal,
        key_id: str,
        *,
        revoke_old_in_s: int | None = None,
        expires_at: datetime | None = None,
    ) -> tuple[ApiKey, str, ApiKey]:
        """A new key in the place of `key_id`: same type, name, role, queues, things and
        subject (so the jobs stay its own). The old key stays live unless `revoke_old_in_s`
        says when it ends (0: now). Answers the new key, its secret and the old key."""
        principal.require(Op.KEY_MANAGE)
        old = await self.store.key_get(principal.tenant_id, key_id) if is_id(key_id) else None
        if old is None:
            raise NotFound("key not found", key_id=key_id)
        if old.is_system and not principal.is_system:
            raise Forbidden("only the system admin key may rotate the system admin key")
        new, token = await self.create_key(
            principal.tenant_id,
            old.name,
            Role(old.role),
            is_system=old.is_system,
            queues=old.queues,
            expires_at=expires_at,
            key_type=old.type,
            things=old.things,
            subject=old.owner,
        )
        ended: ApiKey | None = None
        self._forget(old)
        if revoke_old_in_s == 0:
            ended = await self.store.key_revoke(principal.tenant_id, old.id)
        elif revoke_old_in_s is not None:
            at = await self.store.now() + timedelta(seconds=revoke_old_in_s)
            ended = await self.store.key_expire(principal.tenant_id, old.id, at)
        return new, token, ended or old

    async def list_keys(self, principal: Principal) -> list[ApiKey]:
        principal.require(Op.KEY_MANAGE)
        return await self.store.key_list(principal.tenant_id)

    async def revoke_key(self, principal: Principal, key_id: str) -> ApiKey:
        principal.require(Op.KEY_MANAGE)
        key = await self.store.key_revoke(principal.tenant_id, key_id) if is_id(key_id) else None
        if key is None:
            raise NotFound("key not found", key_id=key_id)
        self._forget(key)
        return key
