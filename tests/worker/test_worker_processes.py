"""Real `jobyard worker` processes against a real server, on each backend."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jobyard import Client
from tests.support.api import Tenant
from tests.worker.processes import ROOT, start_worker, stop


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def ran(marks: Path, what: str) -> list[tuple[str, int, int]]:
    """(job_id, execution_number, pid) of every handler run that left mark `what`."""
    out = []
    for p in marks.iterdir():
        job_id, number, kind, pid = p.name.split(".")
        if kind == what:
            out.append((job_id, int(number), int(pid)))
    return out


def count(c: Client, **filters: Any) -> int:
    return sum(1 for _ in c.iter_jobs(limit=1000, **filters))


def test_two_workers_drain_2000_jobs_exactly_once(
    tenant: Tenant, marks: Path, tmp_path: Path
) -> None:
    env = {"JOBYARD_TEST_MARKS": str(marks)}
    with Client(tenant.server.url, tenant.admin_key) as c:
        for _ in range(2):
            c.create_jobs([{"type": "noop", "queue": "drain"} for _ in range(1000)])
        key = tenant.new_key("worker")
        workers = [
            start_worker(tenant.server.url, key, "drain", tmp_path / f"w{i}.log", env=env)
            for i in range(2)
        ]
        try:
            wait_for(lambda: count(c, status="succeeded") == 2000, 180, "2,000 jobs to succeed")
        finally:
            for w in workers:
                stop(w)
        runs = ran(marks, "ran")
        assert len(runs) == 2000
        keys = Counter((job, n) for job, n, _ in runs)
        assert max(keys.values()) == 1, "a (job, execution_number) ran twice"
        assert {n for _, n in keys} == {1}
        assert count(c) == 2000


def test_failures_are_recorded_and_retried_then_shown_by_the_cli(
    tenant: Tenant, marks: Path, tmp_path: Path
) -> None:
    env = {"JOBYARD_TEST_MARKS": str(marks)}
    with Client(tenant.server.url, tenant.admin_key) as c:
        failing = c.create_job("boom", queue="fail", max_attempts=3, backoff_base_s=0.1)
        rejected = c.create_job("reject", queue="fail", max_attempts=3)
        w = start_worker(tenant.server.url, tenant.admin_key, "fail", tmp_path / "w.log", env=env)
        try:
            wait_for(lambda: c.get_job(failing.id).status == "failed", 60, "the job to fail")
            wait_for(lambda: c.get_job(rejected.id).status == "rejected", 30, "the rejection")
        finally:
            stop(w)
        job = c.get_job(failing.id)
        assert job.attempts == 3
        assert [x.status for x in c.list_executions(failing.id)] == ["failed"] * 3
        assert len(ran(marks, "boom")) == 3
        assert job.error is not None
        assert job.error["code"] == "ValueError"
        assert job.error["message"] == "boom on attempt 3"
        assert "Traceback" in job.error["details"]["traceback"]
        assert [x.status for x in c.list_executions(rejected.id)] == ["rejected"]
        assert len(ran(marks, "reject")) == 1

    shown = subprocess.run(
        [sys.executable, "-m", "jobyard.cli.main", "jobs", "show", failing.id],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"JOBYARD_URL": tenant.server.url, "JOBYARD_API_KEY": tenant.admin_key, "PATH": ""},
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert "failed" in shown.stdout
    assert "boom on attempt 3" in shown.stdout


def test_a_killed_worker_loses_its_job_to_another_after_the_lease(
    tenant: Tenant, marks: Path, tmp_path: Path
) -> None:
    env = {"JOBYARD_TEST_MARKS": str(marks), "JOBYARD_TEST_LEASE_S": "2"}
    with Client(tenant.server.url, tenant.admin_key) as c:
        job = c.create_job("slow", queue="kill", params={"seconds": 1.5})
        first = start_worker(
            tenant.server.url, tenant.admin_key, "kill", tmp_path / "a.log", env=env
        )
        try:
            wait_for(lambda: bool(ran(marks, "started")), 30, "the first worker to start the job")
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            stop(first)
        second = start_worker(
            tenant.server.url, tenant.admin_key, "kill", tmp_path / "b.log", env=env
        )
        try:
            wait_for(lambda: c.get_job(job.id).status == "succeeded", 60, "the job to succeed")
        finally:
            stop(second)
        executions = c.list_executions(job.id)
        assert [x.status for x in executions] == ["timed_out", "succeeded"]
        assert executions[0].pid == first.pid
        assert executions[1].pid == second.pid
        finished = ran(marks, "finished")
        assert [(n, pid) for _, n, pid in finished] == [(2, second.pid)]


def test_sigterm_finishes_running_jobs_and_hands_back_the_rest(
    tenant: Tenant, marks: Path, tmp_path: Path
) -> None:
    env = {"JOBYARD_TEST_MARKS": str(marks), "JOBYARD_TEST_GRACE_S": "20"}
    with Client(tenant.server.url, tenant.admin_key) as c:
        running = c.create_job("slow", queue="term", params={"seconds": 2}, priority=10)
        waiting = [c.create_job("noop", queue="term") for _ in range(3)]
        w = start_worker(
            tenant.server.url, tenant.admin_key, "term", tmp_path / "w.log", concurrency=1, env=env
        )
        try:
            wait_for(lambda: bool(ran(marks, "started")), 30, "the slow job to start")
            # concurrency 1, prefetch 1: one more job is held but not started.
            wait_for(
                lambda: count(c, status="in_progress", queue="term") == 2, 10, "a prefetched job"
            )
            w.send_signal(signal.SIGTERM)
            assert w.wait(30) == 0
        finally:
            stop(w)
        assert c.get_job(running.id).status == "succeeded"
        statuses = [c.get_job(j.id).status for j in waiting]
        assert statuses.count("queued") == 3, statuses
        claimed = c.claim(["term"], max=10)
        assert {x.job_id for x in claimed} == {j.id for j in waiting}
