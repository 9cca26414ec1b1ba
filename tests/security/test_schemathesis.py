"""Schemathesis against a live `jobyard serve`, once per role: no 5xx, no schema violation.

For each role, a key of that role in a tenant of its own (so that an admin run revoking keys
or a worker run holding executions cannot disturb another role's run) drives the `st` command
line over every operation of `/openapi.json`: seeded, with every check, a bounded number of
examples per operation and a time box. Any failed check or error fails the test, with
Schemathesis' report printed; so does a traceback in the server's log, which catches a failure
after the answer began (a stream) that the client cannot see.

One backend: PostgreSQL when one answers (always in CI), SQLite otherwise. PostgreSQL is the
stricter of the two about what it stores (NUL characters, 64-bit integers, times), so an input
the API lets through by mistake is likeliest to turn into a 500 there; running both would double
the time, and the API tests already cover both backends. The settings that apply per operation
are in `schemathesis.toml`; `st_hooks.py` tells the generator what the schema cannot say, keeps
long-polls short and the run's own key alive.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import databases, leaks
from tests.support.api import create_job, new_tenant
from tests.support.server import Server, start_server

HERE = Path(__file__).parent
ROLES = ["admin", "member", "viewer", "worker"]
SEED = 20_251_123
MAX_EXAMPLES = 10  # per operation and pass; the time box decides how many passes
MAX_TIME_S = 18  # per role: with start-up, the four runs take about 95 s on two cores
RUN_TIMEOUT_S = MAX_TIME_S + 60  # the time box bounds generation; a stuck run fails anyway
HAR = "st.har"  # every request and answer of a run


@dataclass
class RoleKey:
    role: str
    key: str
    key_id: str


@pytest.fixture(scope="module")
def fuzz_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server of this module alone, on PostgreSQL when it answers (see the docstring). Once
    stopped, its database must hold none of the secrets it handed out in clear, to the tests or
    to Schemathesis (which makes keys of its own as admin)."""
    data_dir = tmp_path_factory.mktemp("fuzz")
    if not databases.pg_available() and os.environ.get("CI") != "true":
        url = f"sqlite:///{data_dir / 'jobyard.db'}"
        srv = start_server(url, data_dir)
        yield srv
        srv.stop()
        leaks.check_stopped_server(srv.url, data_dir, url)
        return
    name, url = databases.create_database(request.getfixturevalue("pg_template"))
    srv = start_server(url, data_dir)
    yield srv
    srv.stop()
    try:
        leaks.check_stopped_server(srv.url, data_dir, url)
    finally:
        databases.drop_database(name)


def role_key(server: Server, role: str) -> RoleKey:
    """A key of `role` in a new tenant that already holds a few jobs to find, read and claim."""
    tenant = new_tenant(server)
    with tenant.client() as c:
        for queue in ("default", "default", "mail"):
            create_job(c, queue=queue, params={"n": 1}, labels={"team": "a"})
        r = c.post("/v1/keys", json={"name": f"fuzz {role}", "role": role})
    assert r.status_code == 201, r.text
    body = r.json()
    return RoleKey(role, body["key"], body["id"])


def run_schemathesis(server: Server, key: RoleKey, workdir: Path) -> tuple[int, str]:
    """Runs `st run`; answers its exit status and its report (stdout and stderr)."""
    cmd = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "run",
        f"{server.url}/openapi.json",
        "--checks",
        "all",
        "--seed",
        str(SEED),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--max-time",
        str(MAX_TIME_S),
        "--header",
        f"Authorization: Bearer {key.key}",
        "--generation-database",
        "none",
        "--report",
        "har",
        "--report-har-path",
        str(workdir / HAR),
        "--no-color",
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": str(HERE / "st_hooks.py"),
        "JOBYARD_FUZZ_KEY_ID": key.key_id,
    }
    try:
        done = subprocess.run(
            cmd,
            cwd=workdir,  # whatever it writes (reports, caches) stays in the test's folder
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else ""
        return -1, f"timed out after {RUN_TIMEOUT_S} s\n{out}"
    return done.returncode, done.stdout + done.stderr


def record_secrets(har: Path) -> None:
    """The secrets in Schemathesis' answers (the keys it made), for the database check."""
    if not har.exists():
        return
    for entry in json.loads(har.read_text())["log"]["entries"]:
        content = entry["response"].get("content") or {}
        if not content.get("mimeType", "").startswith("application/json"):
            continue
        try:
            body = json.loads(content.get("text") or "null")
        except ValueError:
            continue
        leaks.RECORDER.record_answer(leaks.origin_of(entry["request"]["url"]), body)


@pytest.mark.parametrize("role", ROLES)
def test_schemathesis_finds_nothing(fuzz_server: Server, role: str, tmp_path: Path) -> None:
    key = role_key(fuzz_server, role)
    seen = len(fuzz_server.log())
    started = time.monotonic()
    status, report = run_schemathesis(fuzz_server, key, tmp_path)
    record_secrets(tmp_path / HAR)
    took = time.monotonic() - started
    assert status == 0, f"st run as {role} ({took:.0f} s), exit {status}:\n{report}"
    written = fuzz_server.log()[seen:]
    assert "Traceback" not in written, f"the server logged a traceback:\n{written}"
    assert fuzz_server.process.poll() is None, "the server exited"
    with fuzz_server.client(key.key) as c:  # the key worked to the end of the run
        assert c.get("/v1/me").status_code == 200
