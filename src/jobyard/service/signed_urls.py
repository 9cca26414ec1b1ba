"""URLs that need no API key: HMAC-signed over method, path and expiry, checked on use.

The signing key is the tenant's own, kept by the store; retiring it voids every URL it signed.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from jobyard.domain.errors import Forbidden, InvalidInput
from jobyard.store.protocol import Store

DEFAULT_TTL_S = 3600
MAX_TTL_S = 7 * 86400


@dataclass(frozen=True, slots=True)
class SignedUrl:
    url: str  # relative to the server
    expires_at: datetime


def _signature(secret: str, method: str, path: str, expires: int, key_id: str) -> str:
    message = f"{method}\n{path}\n{expires}\n{key_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class UrlSigner:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def sign(self, tenant_id: str, path: str, ttl_s: int | None) -> SignedUrl:
        ttl = DEFAULT_TTL_S if ttl_s is None else ttl_s
        if not 1 <= ttl <= MAX_TTL_S:
            raise InvalidInput(
                f"expires_in_s must be between 1 and {MAX_TTL_S}", field="expires_in_s"
            )
        key_id, secret = await self.store.signing_key(tenant_id)
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
        if when < datetime.now(UTC).timestamp():
            raise denied
        try:
            _, secret = await self.store.signing_key(tenant_id, key_id)
        except KeyError:
            raise denied from None
        if not hmac.compare_digest(_signature(secret, method, path, when, key_id), sig):
            raise denied
