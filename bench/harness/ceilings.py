"""The limits on this machine, measured in the same run, to read each figure against:

- PostgreSQL's commit rate: `pgbench` on a scratch database (made and dropped here), its
  built-in `simple-update` transaction (three statements and a commit), with 1 client and with 8;
- the request rate of an empty endpoint on Jobyard's server stack (`bench.harness.empty_app`),
  and of Jobyard's own `GET /healthz` on a real `jobyard serve` (everything a request passes
  through before its route), loaded by wrk when it is installed, else by
  `bench.harness.loadgen`; 32 keep-alive connections.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.lifecycle import serve
from bench.systems import postgres
from bench.systems.base import ROOT

CONNECTIONS = 32


def pgbench(admin_url: str, seconds: float) -> dict[str, Any]:
    exe = shutil.which("pgbench")
    if exe is None:
        return {"error": "pgbench is not installed"}
    figures: dict[str, Any] = {"transaction": "simple-update", "seconds": seconds}
    with postgres.fresh_database(admin_url) as (url, _):
        subprocess.run([exe, "-i", "-s", "1", "-q", url], check=True, capture_output=True)
        for clients in (1, 8):
            out = subprocess.run(
                [
                    *(exe, "-n", "-b", "simple-update", "-c", str(clients)),
                    *("-j", str(min(clients, 2)), "-T", str(max(1, round(seconds))), url),
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            found = re.search(r"tps = ([\d.]+)", out)
            figures[f"commits_per_s_{clients}_clients"] = float(found.group(1)) if found else None
    return figures


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _load(url: str, seconds: float) -> tuple[float, str]:
    wrk = shutil.which("wrk")
    if wrk is not None:
        out = subprocess.run(
            [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", url],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        found = re.search(r"Requests/sec:\s+([\d.]+)", out)
        if found is None:
            raise RuntimeError(f"wrk said: {out}")
        return float(found.group(1)), "wrk (1 thread)"
    out = subprocess.run(
        [
            *(sys.executable, "-m", "bench.harness.loadgen", url),
            *("--connections", str(CONNECTIONS), "--seconds", str(seconds)),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(json.loads(out)["requests_per_s"]), "bench.harness.loadgen (Python, 1 process)"


def _wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the empty endpoint's server exited at start")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the empty endpoint's server did not answer")


def asgi(seconds: float) -> dict[str, Any]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/empty"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.harness.empty_app", "--port", str(port)], cwd=ROOT
    )
    try:
        _wait_up(url, proc)
        empty, tool = _load(url, seconds)
    finally:
        proc.terminate()
        proc.wait(15)
    with (
        tempfile.TemporaryDirectory(prefix="jobyard-bench-") as tmp,
        serve(f"sqlite:///{Path(tmp) / 'ceiling.db'}") as (server, _),
    ):
        healthz, _ = _load(server + "/healthz", seconds)
    return {
        "empty_requests_per_s": empty,
        "jobyard_healthz_requests_per_s": healthz,
        "load_generator": tool,
        "connections": CONNECTIONS,
        "seconds": seconds,
    }


def measure(admin_url: str, seconds: float) -> dict[str, Any]:
    return {"postgres": pgbench(admin_url, seconds), "http": asgi(seconds)}
