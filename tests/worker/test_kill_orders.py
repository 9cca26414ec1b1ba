"""Kill orders reach running handlers: cooperative ones stop, stubborn ones are abandoned."""

from __future__ import annotations

import time
from pathlib import Path

from jobyard import Client
from tests.support.api import Tenant
from tests.worker.processes import start_worker, stop
from tests.worker.test_job_output import wait_status
from tests.worker.test_worker_processes import ran, wait_for

LEASE_S = "3"  # renewals every second


def test_cooperative_handlers_end_canceled_with_their_last_lines(
    tenant: Tenant, marks: Path, tmp_path: Path
) -> None:
    env = {"JOBYARD_TEST_MARKS": str(marks), "JOBYARD_TEST_LEASE_S": LEASE_S}
    with Client(tenant.server.url, tenant.admin_key) as c:
        sync_job = c.create_job("polite", queue="kill")
        async_job = c.create_job("slow_async", queue="kill", params={"seconds": 60})
        w = start_worker(tenant.server.url, tenant.admin_key, "kill", tmp_path / "w.log", env=env)
        try:
            wait_for(lambda: len(ran(marks, "started")) == 2, 30, "both handlers to start")
            time.sleep(0.5)
            asked = time.monotonic()
            for job in (sync_job, async_job):
                assert c.cancel_job(job.id, reason="test").status == "canceling"
            wait_status(c, sync_job.id, "canceled", 10)
            wait_status(c, async_job.id, "canceled", 10)
            # within one renewal interval (a third of the lease), plus delivery slack
            assert time.monotonic() - asked < 1 + 1.5
        finally:
            stop(w)
        lines = [e.data for e in c.iter_logs(sync_job.id)]
        assert lines[-1] == "stopping as asked"
        assert lines[:-1] == [f"tick {i}" for i in range(len(lines) - 1)]
        assert [x.status for x in c.list_executions(async_job.id)] == ["canceled"]
        assert not ran(marks, "finished"), "the async handler must have been cancelled"


def test_a_handler_that_ignores_the_order_is_abandoned_after_the_grace(
    tenant: Tenant, marks: Path, tmp_path: Path
) -> None:
    env = {
        "JOBYARD_TEST_MARKS": str(marks),
        "JOBYARD_TEST_LEASE_S": LEASE_S,
        "JOBYARD_TEST_KILL_GRACE_S": "1",
    }
    with Client(tenant.server.url, tenant.admin_key) as c:
        job = c.create_job("stubborn", queue="stubborn", params={"seconds": 4})
        w = start_worker(
            tenant.server.url, tenant.admin_key, "stubborn", tmp_path / "w.log", env=env
        )
        try:
            wait_for(lambda: bool(ran(marks, "started")), 30, "the handler to start")
            asked = time.monotonic()
            c.cancel_job(job.id)
            wait_status(c, job.id, "canceled", 10)
            assert time.monotonic() - asked < 1 + 1 + 1.5  # renewal + grace + slack
            wait_for(lambda: bool(ran(marks, "finished")), 10, "the thread to run out")
            time.sleep(1)
        finally:
            stop(w)
        (execution,) = c.list_executions(job.id)
        assert execution.status == "canceled"
        assert [e.data for e in c.iter_logs(job.id)] == ["about to ignore you"]


def test_a_kill_order_is_pushed_to_a_busy_worker_before_its_next_renewal(
    tenant: Tenant, marks: Path, tmp_path: Path
) -> None:
    # Leases of 60 s: renewals only every 20 s, so a quick stop proves the push.
    env = {"JOBYARD_TEST_MARKS": str(marks), "JOBYARD_TEST_LEASE_S": "60"}
    with Client(tenant.server.url, tenant.admin_key) as c:
        first = c.create_job("polite", queue="push", priority=1)
        second = c.create_job("polite", queue="push")
        w = start_worker(
            tenant.server.url, tenant.admin_key, "push", tmp_path / "w.log", concurrency=1, env=env
        )
        try:
            wait_for(lambda: len(ran(marks, "started")) == 1, 30, "the first job to start")
            # with one place and one prefetched, the worker has no room: it waits on kill orders
            wait_for(lambda: c.get_job(second.id).status == "in_progress", 10, "the prefetch")
            time.sleep(0.5)
            asked = time.monotonic()
            c.cancel_job(first.id)
            wait_status(c, first.id, "canceled", 15)
            assert time.monotonic() - asked < 3
            # the place it frees goes to the prefetched job, which is cancelled the same way
            wait_for(lambda: len(ran(marks, "started")) == 2, 10, "the second job to start")
            asked = time.monotonic()
            c.cancel_job(second.id)
            wait_status(c, second.id, "canceled", 15)
            assert time.monotonic() - asked < 3
        finally:
            stop(w)
