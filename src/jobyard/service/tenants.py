"""Tenants, and the first start of an empty store: a default tenant and its system admin key."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from jobyard.domain.entities import Tenant
from jobyard.domain.errors import Conflict, InvalidInput, Unauthenticated
from jobyard.service.auth import AuthService, Principal
from jobyard.service.permissions import Op, Role
from jobyard.store.protocol import Store

ADMIN_KEY_FILE = "admin.key"


@dataclass(slots=True)
class Bootstrap:
    """What the first start did: the key (only when generated here) and where it was written."""

    key: str | None
    key_file: Path | None
    env_key_valid: bool | None = None  # on later starts: is JOBYARD_ADMIN_KEY a live key here?


class TenantService:
    def __init__(self, store: Store, auth: AuthService) -> None:
        self.store = store
        self.auth = auth

    async def create(self, principal: Principal, name: str) -> tuple[Tenant, str]:
        """A new tenant and its first admin key (answered once)."""
        principal.require(Op.TENANT_MANAGE)
        name = name.strip()
        if not name:
            raise InvalidInput("name must not be empty", field="name")
        if any(t.name == name for t in await self.store.tenant_list()):
            raise Conflict("a tenant with this name exists", field="name")
        tenant = await self.store.tenant_create(name)
        _, token = await self.auth.create_key(tenant.id, "admin", Role.ADMIN)
        return tenant, token

    async def list(self, principal: Principal) -> list[Tenant]:
        principal.require(Op.TENANT_MANAGE)
        return await self.store.tenant_list()

    async def bootstrap(self, data_dir: Path | None, env_key: str | None) -> Bootstrap:
        """On an empty store, make the default tenant and the system admin key.

        With `env_key` (JOBYARD_ADMIN_KEY) that value becomes the key and nothing is written;
        otherwise a random key goes to a 0600 file in the data folder and is answered once.
        """
        if await self.store.key_count() > 0:
            valid = None
            if env_key is not None:
                try:
                    valid = (await self.auth.authenticate(env_key)).is_system
                except Unauthenticated:
                    valid = False
            return Bootstrap(None, _key_file(data_dir), valid)
        try:
            tenant = await self.store.tenant_create("default")
        except Conflict:  # another node starting at the same moment made it first
            return Bootstrap(None, _key_file(data_dir))
        _, token = await self.auth.create_key(
            tenant.id, "system admin", Role.ADMIN, secret=env_key, is_system=True
        )
        if env_key is not None or data_dir is None:
            return Bootstrap(None if env_key else token, None)
        return Bootstrap(token, _write_key_file(data_dir, token))


def _write_key_file(data_dir: Path, token: str) -> Path:
    """Readable by the server's user only (0600), and so from the start."""
    path = data_dir / ADMIN_KEY_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    return path


def _key_file(data_dir: Path | None) -> Path | None:
    if data_dir is None:
        return None
    path = data_dir / ADMIN_KEY_FILE
    return path if path.exists() else None
