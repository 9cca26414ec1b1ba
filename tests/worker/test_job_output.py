"""What handlers write while they run reaches the job: lines, `logging` output, record errors."""

from __future__ import annotations

import time
from pathlib import Path

from jobyard import Client
from tests.support.api import Tenant
from tests.worker.processes import start_worker, stop


def wait_status(c: Client, job_id: str, status: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while c.get_job(job_id).status != status:
        assert time.monotonic() < deadline, f"job {job_id} did not reach {status}"
        time.sleep(0.1)


def test_log_lines_logging_and_record_errors_arrive_in_order(
    tenant: Tenant, tmp_path: Path
) -> None:
    with Client(tenant.server.url, tenant.admin_key) as c:
        sync_job = c.create_job("chatty", queue="out", params={"lines": 3000, "bad": 250})
        async_job = c.create_job("chatty_async", queue="out", params={"lines": 5})
        w = start_worker(tenant.server.url, tenant.admin_key, "out", tmp_path / "w.log")
        try:
            wait_status(c, sync_job.id, "succeeded")
            wait_status(c, async_job.id, "succeeded")
        finally:
            stop(w)
        entries = list(c.iter_logs(sync_job.id))
        assert [e.seq for e in entries] == list(range(1, 3001))
        for i, e in enumerate(entries):
            if i % 10 == 0:
                assert e.source == "stderr"
                assert e.data.endswith(f"chatty: line {i}")
            else:
                assert (e.source, e.data) == ("stdout", f"line {i}")
        errors = list(c.iter_record_errors(sync_job.id))
        assert [e.data for e in errors] == [{"i": i} for i in range(250)]
        assert errors[1].retriable is False
        assert errors[2].retriable is True
        lines = [e.data for e in c.iter_logs(async_job.id)]
        assert lines == [f"INFO chatty: async line {i}" for i in range(5)]
