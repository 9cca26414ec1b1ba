"""`jobyard serve` and `jobyard db upgrade`, run as a user runs them: the console script."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import asyncpg
import httpx
import pytest

from tests.support import databases
from tests.support.server import free_port

JOBYARD = Path(sys.executable).parent / "jobyard"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
TABLES = {"alembic_version", "tenants", "api_keys", "jobs", "executions"}


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any JOBYARD_* setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBYARD_")}
    return {**env, **extra}


@dataclass
class Serving:
    url: str
    process: subprocess.Popen[bytes]
    output: Path

    def text(self) -> str:
        return self.output.read_text(errors="replace")


class Start(Protocol):
    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Serving: ...


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Start]:
    """Start `jobyard serve ARGS` (stopped after the test); answers once /healthz is up."""
    started: list[Serving] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Serving:
        port = free_port()
        output = tmp_path / f"serve-{port}.out"
        with output.open("wb") as out:
            process = subprocess.Popen(
                [str(JOBYARD), "serve", "--port", str(port), "--log-level", "warning", *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env if env is not None else clean_env(),
                cwd=tmp_path,
            )
        srv = Serving(f"http://127.0.0.1:{port}", process, output)
        started.append(srv)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return srv  # exited: the test looks at why
            try:
                if httpx.get(srv.url + "/healthz", timeout=1).status_code == 200:
                    return srv
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError("jobyard serve did not answer in time:\n" + srv.text())

    yield start
    for srv in started:
        if srv.process.poll() is None:
            srv.process.terminate()
            srv.process.wait(30)


def key_works(url: str, key: str) -> bool:
    r = httpx.get(url + "/v1/jobs", headers={"Authorization": f"Bearer {key}"})
    return r.status_code == 200


def test_first_start_prints_where_everything_is_and_makes_a_private_key(
    serve: Start, tmp_path: Path
) -> None:
    data = tmp_path / "fresh"
    srv = serve("--data-dir", str(data))
    assert srv.process.poll() is None, srv.text()
    out = srv.text()
    key_file = data / "admin.key"
    assert srv.url in out
    assert str(data) in out
    assert str(key_file) in out
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert len(key) >= 32
    assert key_works(srv.url, key)
    assert (data / "jobyard.db").exists(), "the default database is SQLite in the data folder"
    tenants = httpx.post(
        srv.url + "/v1/tenants",
        json={"name": "second"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert tenants.status_code == 201, "the first admin key is the system admin"


def test_restart_keeps_the_key_and_says_where_it_is(serve: Start, tmp_path: Path) -> None:
    data = tmp_path / "again"
    first = serve("--data-dir", str(data))
    key = (data / "admin.key").read_text().strip()
    first.process.terminate()
    first.process.wait(30)

    second = serve("--data-dir", str(data))
    out = second.text()
    assert str(data / "admin.key") in out
    assert key not in out, "the key is printed on the first start only"
    assert (data / "admin.key").read_text().strip() == key
    assert key_works(second.url, key)


def test_data_folder_from_the_environment(serve: Start, tmp_path: Path) -> None:
    data = tmp_path / "from-env"
    srv = serve(env=clean_env(JOBYARD_DATA_DIR=str(data)))
    assert str(data) in srv.text()
    assert key_works(srv.url, (data / "admin.key").read_text().strip())


def test_serve_on_each_backend(serve: Start, tmp_path: Path, database_url: str) -> None:
    data = tmp_path / "data"
    srv = serve("--data-dir", str(data), "--database-url", database_url)
    assert srv.process.poll() is None, srv.text()
    out = srv.text()
    assert srv.url in out
    assert str(data / "admin.key") in out
    key = (data / "admin.key").read_text().strip()
    assert key_works(srv.url, key)
    job = httpx.post(
        srv.url + "/v1/jobs", json={"type": "t"}, headers={"Authorization": f"Bearer {key}"}
    )
    assert job.status_code == 201, job.text


def test_admin_key_from_the_environment_is_used_and_not_written(
    serve: Start, tmp_path: Path
) -> None:
    data = tmp_path / "env-key"
    key = "k" * 40
    srv = serve("--data-dir", str(data), env=clean_env(JOBYARD_ADMIN_KEY=key))
    assert "JOBYARD_ADMIN_KEY" in srv.text()
    assert key not in srv.text()
    assert not (data / "admin.key").exists()
    assert key_works(srv.url, key)


def test_an_admin_key_set_after_the_first_start_is_flagged(serve: Start, tmp_path: Path) -> None:
    data = tmp_path / "late-env-key"
    first = serve("--data-dir", str(data))
    first.process.terminate()
    first.process.wait(30)
    late = "L" * 40
    second = serve("--data-dir", str(data), env=clean_env(JOBYARD_ADMIN_KEY=late))
    assert "warning" in second.text()
    assert "only on the first start" in second.text()
    assert not key_works(second.url, late)


def test_a_short_admin_key_from_the_environment_is_refused(serve: Start, tmp_path: Path) -> None:
    srv = serve("--data-dir", str(tmp_path / "short"), env=clean_env(JOBYARD_ADMIN_KEY="too-short"))
    assert srv.process.wait(30) != 0
    assert "32" in srv.text()


# ---- db upgrade ---------------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    databases.require_pg()
    name, url = databases.create_database()
    yield url
    databases.drop_database(name)


def tables_of(url: str) -> set[str]:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.split("///", 1)[1]) as conn:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return {r[0] for r in rows}

    async def pg_tables() -> set[str]:
        conn = await asyncpg.connect(url)
        try:
            rows = await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        finally:
            await conn.close()
        return {r["table_name"] for r in rows}

    return asyncio.run(pg_tables())


def upgrade(url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(JOBYARD), "db", "upgrade", "--database-url", url],
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd=cwd,
        timeout=60,
        check=False,
    )


def test_db_upgrade_migrates_an_empty_database(empty_database: str, tmp_path: Path) -> None:
    assert not TABLES & tables_of(empty_database)
    first = upgrade(empty_database, tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "newest schema" in first.stdout + first.stderr
    assert tables_of(empty_database) >= TABLES
    again = upgrade(empty_database, tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr


def test_db_upgrade_refuses_an_unknown_url(tmp_path: Path) -> None:
    r = upgrade("mysql://nowhere/db", tmp_path)
    assert r.returncode != 0
    assert "Traceback" not in r.stdout + r.stderr


def test_sigterm_stops_at_once_with_live_tails_open(serve: Start, tmp_path: Path) -> None:
    """A tail never ends by itself while its job runs: on SIGTERM the server closes it (with no
    `end` event, so clients resume elsewhere), answers waiting long-polls, and stops, rather
    than wait for them."""
    key = "jy_test_admin_" + "b" * 32
    srv = serve("--data-dir", str(tmp_path / "tails"), env=clean_env(JOBYARD_ADMIN_KEY=key))
    auth = {"Authorization": f"Bearer {key}"}
    job = httpx.post(srv.url + "/v1/jobs", json={"type": "t"}, headers=auth).json()
    assert httpx.post(srv.url + "/v1/claims", json={"queues": ["default"]}, headers=auth).is_success
    seen: list[str] = []
    opened = threading.Event()

    def tail() -> None:
        url = f"{srv.url}/v1/jobs/{job['id']}/logs/stream"
        with httpx.stream("GET", url, headers=auth, timeout=30) as r:
            opened.set()
            seen.extend(r.iter_lines())

    polled: list[httpx.Response] = []

    def long_poll() -> None:
        body = {"queues": ["idle"], "wait_s": 30}
        polled.append(httpx.post(srv.url + "/v1/claims", json=body, headers=auth, timeout=40))

    reader, poller = threading.Thread(target=tail), threading.Thread(target=long_poll)
    reader.start()
    poller.start()
    assert opened.wait(10)
    time.sleep(0.5)  # the long-poll is waiting
    began = time.monotonic()
    srv.process.terminate()
    srv.process.wait(30)
    reader.join(10)
    poller.join(10)
    assert time.monotonic() - began < 3, "the stop waited for the tail or the long-poll"
    assert "event: end" not in seen, "a stopping server must not say the job ended"
    assert polled[0].status_code == 200, "a long-poll answers (empty) when its server stops"
    assert polled[0].json()["executions"] == []
    assert "Traceback" not in srv.text()


@pytest.mark.postgres
def test_processes_share_the_port_and_stop_together(serve: Start, tmp_path: Path) -> None:
    """Two server processes on one port serve waiting claims and new jobs whichever process
    takes each connection (waking across nodes is `tests/api/test_cross_node.py`'s), and
    SIGTERM stops them all."""
    databases.require_pg()
    name, url = databases.create_database()
    try:
        data = tmp_path / "procs"
        srv = serve("--data-dir", str(data), "--database-url", url, "--processes", "2")
        assert srv.process.poll() is None, srv.text()
        assert "processes    2" in srv.text()
        key = (data / "admin.key").read_text().strip()
        auth = {"Authorization": f"Bearer {key}"}
        children = _children_of(srv.process.pid)
        assert len(children) == 2, children

        waiting: list[float] = []

        def claim() -> None:
            with httpx.Client(base_url=srv.url, headers=auth, timeout=30) as c:
                started = time.monotonic()
                r = c.post("/v1/claims", json={"queues": ["q"], "max": 1, "wait_s": 20})
                assert r.status_code == 200, r.text
                assert len(r.json()["executions"]) == 1
                waiting.append(time.monotonic() - started)

        claimers = [threading.Thread(target=claim) for _ in range(2)]
        for t in claimers:
            t.start()
        time.sleep(1.0)  # both claims are waiting, on whichever processes took them
        for _ in range(2):
            with httpx.Client(base_url=srv.url, headers=auth) as c:
                assert c.post("/v1/jobs", json={"type": "t", "queue": "q"}).status_code == 201
        for t in claimers:
            t.join(25)
        assert len(waiting) == 2, waiting

        srv.process.terminate()
        assert srv.process.wait(30) == 0, srv.text()
        assert all(not _alive(pid) for pid in children)
    finally:
        databases.drop_database(name)


def test_processes_need_postgres(serve: Start, tmp_path: Path) -> None:
    srv = serve("--data-dir", str(tmp_path / "one"), "--processes", "2")
    assert srv.process.wait(30) == 2
    assert "--processes needs PostgreSQL" in srv.text()


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in (Path(f"/proc/{pid}/stat").read_text())
