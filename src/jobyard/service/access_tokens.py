"""Short-lived access tokens exchanged for an API key (Basiq's `POST /token` flow).

A token is sealed, not stored: `jyat_` and the sealed JSON `{"t": tenant, "k": key id, "exp":
unix time}` under the server key (`secret_box`, bound to the context `access-token`), so it can
be neither read nor forged without that key. On each use it is opened, its expiry checked by the
server's clock, and the key it names looked up again: a token dies with its key (revoked or
expired) and takes the key's role and scope as they are now. Every failure is `Unauthenticated`.
"""

from __future__ import annotations

import math
from datetime import datetime

import orjson

from jobyard.domain.errors import ServerKeyError, Unauthenticated
from jobyard.service.auth import AuthService, Principal
from jobyard.service.secret_box import SecretBox

TOKEN_PREFIX = "jyat_"  # noqa: S105 (a marker, not a secret)
CONTEXT = "access-token"
DEFAULT_TTL_S = 3600
MAX_TOKEN = 1000  # longer bearer values are not tokens this server made


def is_access_token(value: str) -> bool:
    return value.startswith(TOKEN_PREFIX)


class AccessTokens:
    def __init__(self, box: SecretBox, auth: AuthService) -> None:
        self.box = box
        self.auth = auth

    def issue(self, principal: Principal, now: datetime, ttl_s: int = DEFAULT_TTL_S) -> str:
        """A token for the key behind `principal`, valid `ttl_s` seconds from `now`."""
        expires = math.floor(now.timestamp()) + ttl_s
        payload = {"t": principal.tenant_id, "k": principal.key_id, "exp": expires}
        return TOKEN_PREFIX + self.box.seal(orjson.dumps(payload).decode(), CONTEXT)

    async def authenticate(self, token: str, now: datetime) -> Principal:
        if not is_access_token(token) or len(token) > MAX_TOKEN:
            raise Unauthenticated("the access token is not valid")
        try:
            payload = orjson.loads(self.box.open(token[len(TOKEN_PREFIX) :], CONTEXT))
        except (ServerKeyError, orjson.JSONDecodeError, UnicodeDecodeError):
            raise Unauthenticated("the access token is not valid") from None
        if not isinstance(payload, dict):
            raise Unauthenticated("the access token is not valid")
        tenant_id, key_id, expires = payload.get("t"), payload.get("k"), payload.get("exp")
        if not (isinstance(tenant_id, str) and isinstance(key_id, str)):
            raise Unauthenticated("the access token is not valid")
        if not isinstance(expires, int) or expires <= now.timestamp():
            raise Unauthenticated("the access token has expired")
        return await self.auth.authenticate_key_id(tenant_id, key_id)
