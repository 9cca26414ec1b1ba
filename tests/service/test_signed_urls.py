"""The URL signer on each backend: the store only ever sees sealed secrets; rotation voids every
URL signed before it; a key kept in clear by an earlier version is replaced, never used."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlsplit

import pytest

from jobyard.domain.errors import Forbidden
from jobyard.domain.ids import new_id
from jobyard.service.auth import Principal
from jobyard.service.permissions import Role
from jobyard.service.secret_box import SecretBox, is_sealed
from jobyard.service.signed_urls import SignedUrl, UrlSigner
from jobyard.store import Store

PATH = "/v1/files/t/jobs/j/record-errors.ndjson"


async def check(signer: UrlSigner, tenant_id: str, signed: SignedUrl) -> None:
    query = {k: v[0] for k, v in parse_qs(urlsplit(signed.url).query).items()}
    await signer.verify(tenant_id, "GET", PATH, query["expires"], query["kid"], query["sig"])


async def test_signing_keys_are_sealed_and_rotate(store: Store) -> None:
    tenant = await store.tenant_create("t-" + new_id())
    signer = UrlSigner(store, SecretBox(secrets.token_bytes(32)))
    first = await signer.sign(tenant.id, PATH, 60)
    await check(signer, tenant.id, first)
    stored = await store.signing_key_get(tenant.id)
    assert stored is not None
    assert is_sealed(stored[1])

    admin = Principal(tenant.id, new_id(), Role.ADMIN)
    rotated = await signer.rotate(admin)
    assert rotated.retired == 1
    with pytest.raises(Forbidden):
        await check(signer, tenant.id, first)
    second = await signer.sign(tenant.id, PATH, 60)
    assert f"kid={rotated.id}" in second.url
    await check(signer, tenant.id, second)
    with pytest.raises(Forbidden):
        await signer.rotate(Principal(tenant.id, new_id(), Role.MEMBER))


async def test_a_key_kept_in_clear_is_replaced_not_used(store: Store) -> None:
    tenant = await store.tenant_create("t-" + new_id())
    legacy = new_id()
    await store.signing_key_add(tenant.id, legacy, "an old secret kept in clear")
    signer = UrlSigner(store, SecretBox(secrets.token_bytes(32)))
    with pytest.raises(Forbidden):
        await signer.verify(tenant.id, "GET", PATH, "9999999999", legacy, "0" * 64)
    signed = await signer.sign(tenant.id, PATH, 60)
    assert f"kid={legacy}" not in signed.url
    await check(signer, tenant.id, signed)
    assert await store.signing_key_get(tenant.id, legacy) is None, "retired"
