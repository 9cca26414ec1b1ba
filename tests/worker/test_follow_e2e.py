"""A job followed end to end: a real worker writes steps, progress, counters, 10,000 log lines
and 2,500 record errors; the API, the SDK and the CLI show all of it, exactly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from jobyard import Client
from tests.support.api import Tenant
from tests.worker.processes import ROOT, start_worker, stop
from tests.worker.test_job_output import wait_status

LINES, BAD = 10_000, 2_500


def cli(tenant: Tenant, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"JOBYARD_URL": tenant.server.url, "JOBYARD_API_KEY": tenant.admin_key, "PATH": ""}
    return subprocess.run(
        [sys.executable, "-m", "jobyard.cli.main", "jobs", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_everything_a_job_reports_is_shown_exactly(tenant: Tenant, tmp_path: Path) -> None:
    with Client(tenant.server.url, tenant.admin_key) as c:
        job = c.create_job(
            "report",
            queue="e2e",
            params={"lines": LINES, "bad": BAD},
            steps=["extract", "transform", "load"],
        )
        w = start_worker(tenant.server.url, tenant.admin_key, "e2e", tmp_path / "w.log")
        try:
            wait_status(c, job.id, "succeeded", 120)
        finally:
            stop(w)
        done = c.get_job(job.id)

    # the API
    with tenant.client() as api:
        body: dict[str, Any] = api.get(f"/v1/jobs/{job.id}").json()
    assert [(s["name"], s["status"]) for s in body["steps"]] == [
        ("extract", "succeeded"),
        ("transform", "succeeded"),
        ("load", "skipped"),
    ]
    assert body["steps"][0]["result"] == {"type": "link", "url": "https://example.com/extract"}
    assert body["progress"] == {"current": BAD, "total": BAD, "message": "done"}
    assert (body["num_success"], body["num_error"], body["num_pages"]) == (LINES - BAD, BAD, 3)

    # the SDK
    assert (
        done.model_dump(mode="json") | {"latest_execution": None}
        == body | {"latest_execution": None}
        or done.steps == body["steps"]
    )
    with Client(tenant.server.url, tenant.admin_key) as c:
        entries = list(c.iter_logs(job.id))
        assert [e.data for e in entries] == [f"line {i}" for i in range(LINES)]
        assert [e.seq for e in entries] == list(range(1, LINES + 1))
        errors = list(c.iter_record_errors(job.id))
        assert [e.data for e in errors] == [{"i": i} for i in range(BAD)]
        link = c.record_errors_file_url(job.id)
        rows = httpx.get(tenant.server.url + link.url).text.splitlines()
        assert [json.loads(r)["data"]["i"] for r in rows] == list(range(BAD))

    # the CLI
    shown = cli(tenant, "show", job.id, "--json")
    assert shown.returncode == 0, shown.stderr
    as_json = json.loads(shown.stdout)
    assert as_json["steps"] == body["steps"]
    assert as_json["num_error"] == BAD
    log_file = tmp_path / "job.log"
    assert cli(tenant, "logs", job.id, "--download", str(log_file)).returncode == 0
    written = log_file.read_text().splitlines()
    assert len(written) == LINES
    assert written[-1].endswith(f"stdout line {LINES - 1}")
    errors_file = tmp_path / "errors.csv"
    got = cli(tenant, "errors", job.id, "--download", str(errors_file), "--format", "csv")
    assert got.returncode == 0, got.stderr
    assert len(errors_file.read_text().splitlines()) == BAD + 1
    watch = cli(tenant, "watch", job.id)
    assert watch.returncode == 0, watch.stderr
    assert "succeeded" in watch.stdout
    assert f"error={BAD}" in watch.stdout
    assert f"line {LINES - 1}" in watch.stdout
    tail = cli(tenant, "logs", job.id, "--follow")
    assert tail.returncode == 0, tail.stderr
    assert tail.stdout.splitlines() == [f"line {i}" for i in range(LINES)]
