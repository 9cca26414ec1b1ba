"""The README's tour works as written: its commands run against `./scripts/serve`.

The tour is the fenced block marked `bash tour`. The server is started the way the README says,
with only the port and the data folder moved aside (both overrides the tour itself honours), so
the test never meets a server or an admin key of the developer's.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.server import free_port

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TOUR = re.compile(r"^```bash tour\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def tour_commands() -> str:
    blocks = TOUR.findall(README.read_text())
    assert len(blocks) == 1, "README.md must hold exactly one ```bash tour block"
    return str(blocks[0])


@dataclass
class Served:
    url: str
    data_dir: Path
    env: dict[str, str]


def _clean_env(data_dir: Path) -> dict[str, str]:
    """The caller's environment without any Jobyard setting, so the README's defaults apply."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBYARD")}
    env["JOBYARD_DATA_DIR"] = str(data_dir)
    return env


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """`./scripts/serve --port P`, in its own process group so that uv and the server it runs
    are stopped together."""
    port = free_port()
    data_dir = tmp_path / "data"
    env = _clean_env(data_dir)
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            ["./scripts/serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            assert proc.poll() is None, "serve exited:\n" + log_path.read_text()
            assert time.monotonic() < deadline, "serve did not answer:\n" + log_path.read_text()
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield Served(url, data_dir, env)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def test_the_tour_block_is_found() -> None:
    commands = tour_commands()
    assert "/v1/claims" in commands
    assert "${JOBYARD:-http://127.0.0.1:8080}" in commands


def test_the_tour_runs_as_written(served: Served) -> None:
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", tour_commands()],
        cwd=ROOT,
        env={**served.env, "JOBYARD": served.url},
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert run.returncode == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    assert run.stdout.strip().splitlines()[-1] == "succeeded", run.stdout

    key = (served.data_dir / "admin.key").read_text().strip()
    with httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {key}"}) as client:
        listed = client.get("/v1/jobs")
        assert listed.status_code == 200, listed.text
        (summary,) = listed.json()["items"]
        job = client.get(f"/v1/jobs/{summary['id']}").json()
    assert job["status"] == "succeeded"
    assert job["result"] == {"sent": True}
    assert job["latest_execution"]["status"] == "succeeded"
    assert job["latest_execution"]["worker_id"] == "tour-worker"
