"""The machine and the software a run measured on, for the report."""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any


def _first(path: str, pattern: str) -> str:
    try:
        text = Path(path).read_text()
    except OSError:
        return "unknown"
    found = re.search(pattern, text, re.MULTILINE)
    return found.group(1).strip() if found else "unknown"


def _wrk_version() -> str | None:
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    done = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
    found = re.search(r"wrk ([\w.\-]+)", done.stdout + done.stderr)
    return found.group(1) if found else "installed"


def describe() -> dict[str, Any]:
    mem_kib = _first("/proc/meminfo", r"^MemTotal:\s+(\d+)")
    return {
        "cpu": _first("/proc/cpuinfo", r"^model name\s*:\s*(.+)$"),
        "cores": os.cpu_count(),
        "memory_gib": round(int(mem_kib) / 1024 / 1024, 1) if mem_kib.isdigit() else None,
        "os": _first("/etc/os-release", r'^PRETTY_NAME="?([^"\n]+)"?'),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": _wrk_version(),
    }


def source_state(root: Path) -> dict[str, Any]:
    """Which Jobyard was measured: the commit, how many files differ from it, and a digest of
    the package's source as it is on disk. Taken at the start and at the end of a run, it shows
    whether the code changed while the run went on (its figures would then mix versions)."""
    digest = hashlib.sha256()
    for path in sorted((root / "src" / "jobyard").rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    changed = git("status", "--porcelain", "--", "src")
    return {
        "commit": git("rev-parse", "--short", "HEAD") or "unknown",
        "changed_files": len(changed.splitlines()) if changed else 0,
        "digest": digest.hexdigest()[:16],
    }
