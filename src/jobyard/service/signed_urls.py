"""URLs that need no API key: HMAC-signed over method, path and expiry, checked on use.

The signing key is the tenant's own: made here, kept by the store sealed under the server key
(the store never sees it in clear). Rotating retires every live key of the tenant, which voids
every URL they signed; the next URL is signed with the new key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from jobyard.domain.errors import Forbidden, InvalidInput
from jobyard.domain.ids import is_id, new_id
from jobyard.service.auth import Principal
from jobyard.service.permissions import Op
from jobyard.service.secret_box import SecretBox, is_sealed
from jobyard.store.protocol import Store

DEFAULT_TTL_S = 3600
MAX_TTL_S = 7 * 86400


@dataclass(frozen=True, slots=True)
class SignedUrl:
    url: str  # relative to the server
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SigningKeyRotated:
    id: str  # the new key's id (the `kid` of the URLs it signs)
    retired: int  # how many live keys were retired


def _signature(secret: str, method: str, path: str, expires: int, key_id: str) -> str:
    message = f"{method}\n{path}\n{expires}\n{key_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _sealed_for(tenant_id: str, key_id: str) -> str:
    return f"signing-key/{tenant_id}/{key_id}"


class UrlSigner:
    def __init__(self, store: Store, box: SecretBox) -> None:
        self.store = store
        self.box = box

    async def _new_key(self, tenant_id: str, *, retire_others: bool) -> tuple[str, str, int]:
        key_id, secret = new_id(), secrets.token_urlsafe(48)
        sealed = self.box.seal(secret, _sealed_for(tenant_id, key_id))
        retired = await self.store.signing_key_add(
            tenant_id, key_id, sealed, retire_others=retire_others
        )
        return key_id, secret, retired

    async def _current(self, tenant_id: str) -> tuple[str, str]:
        """The tenant's newest live key, made on first use (two nodes making one at once
        make two, both valid)."""
        found = await self.store.signing_key_get(tenant_id)
        if found is not None and is_sealed(found[1]):
            key_id, sealed = found
            return key_id, self.box.open(sealed, _sealed_for(tenant_id, key_id))
        # None yet, or one kept in clear by an earlier version: replace it.
        key_id, secret, _ = await self._new_key(tenant_id, retire_others=found is not None)
        return key_id, secret

    async def sign(self, tenant_id: str, path: str, ttl_s: int | None) -> SignedUrl:
        ttl = DEFAULT_TTL_S if ttl_s is None else ttl_s
        if not 1 <= ttl <= MAX_TTL_S:
            raise InvalidInput(
                f"expires_in_s must be between 1 and {MAX_TTL_S}", field="expires_in_s"
            )
        key_id, secret = await self._current(tenant_id)
        expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=ttl)
        expires = int(expires_at.timestamp())
        query = urlencode(
            {
                "expires": expires,
                "kid": key_id,
                "sig": _signature(secret, "GET", path, expires, key_id),
            }
        )
        return SignedUrl(f"{path}?{query}", expires_at)

    async def verify(
        self, tenant_id: str, method: str, path: str, expires: str, key_id: str, sig: str
    ) -> None:
        """Raises Forbidden unless the URL was signed for exactly this and has not expired."""
        denied = Forbidden("the link is not valid or has expired")
        try:
            when = int(expires)
        except ValueError:
            raise denied from None
        if when < datetime.now(UTC).timestamp() or not is_id(key_id):
            raise denied
        found = await self.store.signing_key_get(tenant_id, key_id)
        if found is None or not is_sealed(found[1]):
            raise denied
        secret = self.box.open(found[1], _sealed_for(tenant_id, key_id))
        expected = _signature(secret, method, path, when, key_id).encode()
        if not hmac.compare_digest(expected, sig.encode("utf-8", "replace")):
            raise denied

    async def rotate(self, principal: Principal) -> SigningKeyRotated:
        """Retire the tenant's signing keys (every URL they signed stops working) for a new one."""
        principal.require(Op.KEY_MANAGE)
        key_id, _, retired = await self._new_key(principal.tenant_id, retire_others=True)
        return SigningKeyRotated(key_id, retired)
