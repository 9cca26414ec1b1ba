"""Secrets at rest, on each backend: after keys of both types are made and a URL is signed, the
raw database (the SQLite files' bytes; every row of every PostgreSQL table as text) holds none of
the secrets in clear: not the API key, not the sigv4 secret, not the URL-signing secret."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import asyncpg
import httpx

from jobyard.service.secret_box import KEY_FILE, SecretBox, parse_server_key
from jobyard.store import open_store
from tests.support.api import claim_one, create_job, execution_path
from tests.support.server import Server
from tests.support.sigv4 import sign


async def _pg_rows(url: str) -> bytes:
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
        text = []
        for t in tables:
            name = t["tablename"].replace('"', '""')
            text += [r[0] for r in await conn.fetch(f'SELECT t::text FROM "{name}" t')]
    finally:
        await conn.close()
    return "\n".join(text).encode()


def raw_database(database_url: str) -> bytes:
    if database_url.startswith("sqlite"):
        db = Path(database_url.removeprefix("sqlite:///"))
        files = sorted(db.parent.glob(db.name + "*"))  # the file, its WAL and shared memory
        assert db in files
        return b"".join(f.read_bytes() for f in files)
    return asyncio.run(_pg_rows(database_url))


def signing_secret(server: Server, database_url: str, key_file: Path) -> str:
    """The URL-signing secret, opened with the server key: what must never be in clear."""
    with server.client() as c:
        tenant_id = c.get("/v1/me").json()["tenant_id"]

    async def read() -> tuple[str, str] | None:
        store = open_store(database_url)
        try:
            return await store.signing_key_get(tenant_id)
        finally:
            await store.close()

    found = asyncio.run(read())
    assert found is not None
    box = SecretBox(parse_server_key(key_file.read_text()))
    return box.open(found[1], f"signing-key/{tenant_id}/{found[0]}")


def test_no_secret_is_stored_in_clear(server: Server, database_url: str, tmp_path: Path) -> None:
    key_file = tmp_path / "data" / KEY_FILE  # where the `server` fixture keeps its data
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    with server.client() as admin:
        api = admin.post("/v1/keys", json={"name": "api", "role": "admin"}).json()
        device = admin.post(
            "/v1/keys", json={"name": "device", "role": "admin", "type": "aws-sigv4"}
        ).json()
        job = create_job(admin)
        ex = claim_one(admin)
        r = admin.post(execution_path(ex) + "/record-errors", json={"errors": [{"message": "x"}]})
        assert r.status_code == 200, r.text
        url = admin.post(f"/v1/jobs/{job['id']}/record-errors/file-url").json()["url"]
    assert httpx.get(server.url + url).status_code == 200
    assert sign(device, server.url + "/v1/jobs").send().status_code == 200
    with server.client(api["key"]) as c:
        assert c.get("/v1/jobs").status_code == 200

    database = raw_database(database_url)
    assert device["access_key_id"].encode() in database, "the dump does hold the key rows"
    assert b"v1." in database, "and their sealed secrets"
    secrets = {
        "api key": api["key"],
        "sigv4 secret": device["secret_access_key"],
        "signing secret": signing_secret(server, database_url, key_file),
        "system admin key": server.admin_key,
        "server key": key_file.read_text().strip(),
    }
    log = server.log()
    for name, secret in secrets.items():
        assert secret.encode() not in database, f"the {name} is in the database in clear"
        assert secret not in log, f"the {name} is in the server's log"
