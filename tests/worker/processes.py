"""Starting `jobyard worker` processes for tests, and stopping them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start_worker(
    url: str,
    api_key: str,
    queue: str,
    log_path: Path,
    *,
    concurrency: int = 4,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "jobyard.cli.main",
        "worker",
        "tests.worker.handlers:worker",
        "--queue",
        queue,
        "--concurrency",
        str(concurrency),
        "--url",
        url,
        "--api-key",
        api_key,
    ]
    with log_path.open("ab") as log:
        return subprocess.Popen(
            cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(10)
