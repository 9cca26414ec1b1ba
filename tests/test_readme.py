"""The README's tour works as written: the CLI tour against the example worker, and the
protocol by hand with curl.

The fenced blocks are marked: `bash tour:serve` (the server), `bash tour:worker` (the example
worker), `bash tour` (the CLI commands) and `bash protocol` (curl). Server and worker are started
with the README's own commands, in the background, with only the port and the data folder moved
aside (through `--port` and the JOBYARD_URL and JOBYARD_DATA_DIR settings the tour honours), so
the test never meets a server or an admin key of the developer's.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.server import free_port

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK = re.compile(r"^```bash ([\w:]+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
MARKS = {"tour:serve", "tour:worker", "tour", "protocol"}


def block(mark: str) -> str:
    found = [text for name, text in BLOCK.findall(README.read_text()) if name == mark]
    assert len(found) == 1, f"README.md must hold exactly one ```bash {mark} block"
    return str(found[0])


def one_command(mark: str) -> list[str]:
    lines = [line for line in block(mark).splitlines() if line.strip()]
    assert len(lines) == 1, f"the {mark} block is one command"
    return shlex.split(lines[0])


@dataclass
class Served:
    url: str
    data_dir: Path
    env: dict[str, str]
    logs: Path

    def client(self) -> httpx.Client:
        key = (self.data_dir / "admin.key").read_text().strip()
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {key}"})


def _clean_env(data_dir: Path, url: str) -> dict[str, str]:
    """The caller's environment without any Jobyard setting, so the README's defaults apply."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBYARD")}
    env["JOBYARD_DATA_DIR"] = str(data_dir)
    env["JOBYARD_URL"] = url
    env["UV_FROZEN"] = "1"  # `uv run` uses the lock file as it is, never rewrites it
    uv = os.environ.get("UV") or shutil.which("uv")  # `uv run` names itself in UV
    if uv:  # the README's commands call `uv`, as a user who installed it would have it
        env["PATH"] = f"{Path(uv).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _start(cmd: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """In its own process group, so that uv and the process it runs are stopped together."""
    with log_path.open("wb") as log:
        return subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def _stop(proc: subprocess.Popen[bytes], grace_s: float) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def _wait(check: Callable[[], bool], timeout_s: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"{what}, in time:\n{log.read_text(errors='replace')}"
        time.sleep(0.1)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """The server, as the README starts it, on a free port."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = _clean_env(tmp_path / "data", url)
    log = tmp_path / "serve.log"
    proc = _start([*one_command("tour:serve"), "--port", str(port)], env, log)

    def healthy() -> bool:
        assert proc.poll() is None, "serve exited:\n" + log.read_text()
        try:
            return httpx.get(url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        _wait(healthy, 20, "serve did not answer", log)
        yield Served(url, tmp_path / "data", env, tmp_path)
    finally:
        _stop(proc, 10)


@pytest.fixture
def worker(served: Served) -> Iterator[None]:
    """The example worker, as the README starts it."""
    log = served.logs / "worker.log"
    proc = _start(one_command("tour:worker"), served.env, log)

    def ready() -> bool:
        assert proc.poll() is None, "the worker exited:\n" + log.read_text()
        return "handlers [" in log.read_text()

    try:
        _wait(ready, 20, "the worker did not start", log)
        yield
    finally:
        _stop(proc, 10)


def test_the_blocks_are_found() -> None:
    assert {name for name, _ in BLOCK.findall(README.read_text())} == MARKS
    assert one_command("tour:serve") == ["./scripts/serve"]
    assert "examples.worker:worker" in one_command("tour:worker")
    assert "jobyard jobs create greet" in block("tour")
    assert "/v1/claims" in block("protocol")
    assert "${JOBYARD_URL:-http://127.0.0.1:8080}" in block("protocol")


def _run(commands: str, env: dict[str, str], timeout_s: float) -> str:
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", commands],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    assert run.returncode == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    return run.stdout


def _jobs_by_type(c: httpx.Client) -> dict[str, dict[str, Any]]:
    listed = c.get("/v1/jobs")
    assert listed.status_code == 200, listed.text
    jobs = {j["type"]: j for j in listed.json()["items"]}
    assert len(jobs) == len(listed.json()["items"]) == 3, listed.text
    return jobs


def test_the_cli_tour_runs_as_written(served: Served, worker: None) -> None:
    out = _run(block("tour"), served.env, timeout_s=60)
    assert '"greeting": "Hello, Ada!"' in out, out
    assert "canceling" in out, out

    with served.client() as c:
        jobs = _jobs_by_type(c)
        greet = c.get(f"/v1/jobs/{jobs['greet']['id']}").json()
        assert greet["status"] == "succeeded"
        assert greet["result"] == {"greeting": "Hello, Ada!"}

        def status_of(job_type: str) -> str:
            status: str = c.get(f"/v1/jobs/{jobs[job_type]['id']}").json()["status"]
            return status

        log = served.logs / "worker.log"
        _wait(lambda: status_of("fail") == "failed", 15, "the failing job did not fail", log)
        _wait(lambda: status_of("sleep") == "canceled", 15, "the kill order was not obeyed", log)

        failed = c.get(f"/v1/jobs/{jobs['fail']['id']}").json()
        assert failed["attempts"] == 3
        assert failed["error"]["message"] == "attempt 3 failed on purpose"
        runs = c.get(f"/v1/jobs/{jobs['fail']['id']}/executions").json()["items"]
        assert [x["status"] for x in runs] == ["failed"] * 3
        slow = c.get(f"/v1/jobs/{jobs['sleep']['id']}").json()
        assert slow["kill_order"]["reason"] == "not needed after all"


def test_the_protocol_by_hand_runs_as_written(served: Served) -> None:
    out = _run(block("protocol"), served.env, timeout_s=20)
    assert out.strip().splitlines()[-1] == "succeeded", out

    with served.client() as c:
        listed = c.get("/v1/jobs")
        assert listed.status_code == 200, listed.text
        (summary,) = listed.json()["items"]
        job = c.get(f"/v1/jobs/{summary['id']}").json()
    assert job["status"] == "succeeded"
    assert job["result"] == {"sent": True}
    assert job["latest_execution"]["status"] == "succeeded"
    assert job["latest_execution"]["worker_id"] == "by-hand"
