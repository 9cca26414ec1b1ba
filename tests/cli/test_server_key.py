"""The server key, as `jobyard serve` uses it: from JOBYARD_SERVER_KEY or a 0600 file made on the
first start; a server whose key is not the one the stored secrets were sealed under refuses to
start, and a request that meets such a secret anyway fails clearly (never a wrong answer)."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from jobyard.service.secret_box import KEY_FILE, new_server_key_text
from tests.support.api import claim_one, create_job, error_of, execution_path
from tests.support.server import Server, start_server
from tests.support.sigv4 import sign

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for srv in started:
        srv.stop()


def serve(servers: list[Server], database_url: str, data_dir: Path, key: str | None) -> Server:
    env = {"JOBYARD_SERVER_KEY": key} if key is not None else {"JOBYARD_SERVER_KEY": ""}
    srv = start_server(database_url, data_dir, env)
    servers.append(srv)
    return srv


def refused_start(database_url: str, data_dir: Path, key: str) -> str:
    with pytest.raises(RuntimeError, match="server exited at start") as caught:
        start_server(database_url, data_dir, {"JOBYARD_SERVER_KEY": key})
    return str(caught.value)


def make_secrets(srv: Server) -> tuple[dict[str, str], str]:
    """An aws-sigv4 key and a signed URL: a secret of each kind, sealed under `srv`'s key."""
    with srv.client() as admin:
        device = admin.post(
            "/v1/keys", json={"name": "device", "role": "admin", "type": "aws-sigv4"}
        ).json()
        job = create_job(admin)
        ex = claim_one(admin)
        r = admin.post(execution_path(ex) + "/record-errors", json={"errors": [{"message": "x"}]})
        assert r.status_code == 200, r.text
        url = admin.post(f"/v1/jobs/{job['id']}/record-errors/file-url").json()["url"]
    return device, url


def test_a_server_with_another_key_refuses_to_start(
    database_url: str, tmp_path: Path, servers: list[Server]
) -> None:
    key = new_server_key_text()
    first = serve(servers, database_url, tmp_path / "a", key)
    device, url = make_secrets(first)
    first.stop()

    message = refused_start(database_url, tmp_path / "b", new_server_key_text())
    assert "cannot start" in message
    assert "JOBYARD_SERVER_KEY" in message
    assert key not in message

    again = serve(servers, database_url, tmp_path / "c", key)  # the right key: all still works
    assert sign(device, again.url + "/v1/jobs").send().status_code == 200
    assert httpx.get(again.url + url).status_code == 200
    assert key not in again.log()


def test_a_node_that_missed_the_key_fails_the_request_clearly(
    database_url: str, tmp_path: Path, servers: list[Server]
) -> None:
    """Two nodes started on an empty database with different keys both start (nothing sealed
    yet to check against); the one that cannot open a secret answers 500, never a wrong 403."""
    right = serve(servers, database_url, tmp_path / "a", new_server_key_text())
    wrong = serve(servers, database_url, tmp_path / "b", new_server_key_text())
    device, url = make_secrets(right)
    assert sign(device, right.url + "/v1/jobs").send().status_code == 200
    for r in (sign(device, wrong.url + "/v1/jobs").send(), httpx.get(wrong.url + url)):
        assert error_of(r, 500)["code"] == "server_key_mismatch"
        assert "JOBYARD_SERVER_KEY" in r.json()["error"]["message"]
    assert "server key" in wrong.log()
    assert "Traceback" not in wrong.log()


@SQLITE_ONLY
def test_the_key_file_is_made_on_the_first_start_and_kept(
    database_url: str, tmp_path: Path, servers: list[Server]
) -> None:
    data = tmp_path / "data"
    first = serve(servers, database_url, data, None)
    key_file = data / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    kept = key_file.read_text()
    device, url = make_secrets(first)
    first.stop()
    again = serve(servers, database_url, data, None)
    assert key_file.read_text() == kept
    assert sign(device, again.url + "/v1/jobs").send().status_code == 200
    assert httpx.get(again.url + url).status_code == 200


@SQLITE_ONLY
def test_a_malformed_server_key_refuses_to_start(database_url: str, tmp_path: Path) -> None:
    for bad in ("short", "x" * 43 + "!", json.dumps({"k": 1})):
        message = refused_start(database_url, tmp_path / "data", bad)
        assert "32 random bytes in base64url" in message
