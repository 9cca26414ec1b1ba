"""A real Jobyard server in its own process, on a free loopback port."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support import leaks


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    admin_key: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def client(self, key: str | None = None, timeout: float = 30.0) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {key or self.admin_key}"},
            timeout=timeout,
            event_hooks={"response": [leaks.RECORDER.on_response]},  # checked at its stop
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def start_server(
    database_url: str, data_dir: Path, extra_env: dict[str, str] | None = None
) -> Server:
    port = free_port()
    admin_key = "jy_test_admin_" + secrets.token_hex(16)
    env = {
        **os.environ,
        "JOBYARD_ADMIN_KEY": admin_key,
        "JOBYARD_DATABASE_URL": database_url,
        "JOBYARD_DATA_DIR": str(data_dir),
        # Hundreds of tests share one server and send bad keys on purpose, all from 127.0.0.1:
        # the default (30 a minute per address) would lock the whole suite out. Tests of that
        # limit set their own through `extra_env`.
        "JOBYARD_AUTH_FAILURES_PER_MIN": "100000",
        **(extra_env or {}),
    }
    for name in ("JOBYARD_ADMIN_KEY", "JOBYARD_SERVER_KEY"):
        leaks.RECORDER.record(f"http://127.0.0.1:{port}", env.get(name), name)
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "server.log"
    cmd = [sys.executable, "-m", "jobyard.cli.main", "serve", "--port", str(port)]
    with log_path.open("wb") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [*cmd, "--log-level", "warning"], stdout=log, stderr=subprocess.STDOUT, env=env
        )
    server = Server(f"http://127.0.0.1:{port}", admin_key, process, log_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("server exited at start:\n" + server.log())
        try:
            if httpx.get(server.url + "/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError("server did not answer in time:\n" + server.log())
