"""The process runner: a command as the job, its output in the log, its exit code, its end."""

from __future__ import annotations

import os
import time
from pathlib import Path

from jobyard import Client
from tests.support.api import Tenant
from tests.worker.processes import start_worker, stop
from tests.worker.test_job_output import wait_status
from tests.worker.test_worker_processes import wait_for


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie has exited; it only waits for its parent to read its status
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


def test_output_and_exit_codes(tenant: Tenant, tmp_path: Path) -> None:
    with Client(tenant.server.url, tenant.admin_key) as c:
        good = c.create_job("command", queue="cmd", params={"lines": 5})
        bad = c.create_job("command", queue="cmd", params={"exit": 3}, max_attempts=1)
        w = start_worker(tenant.server.url, tenant.admin_key, "cmd", tmp_path / "w.log")
        try:
            wait_status(c, good.id, "succeeded")
            wait_status(c, bad.id, "failed")
        finally:
            stop(w)
        lines = [(e.source, e.data) for e in c.iter_logs(good.id)]
        assert lines == [("stdout", f"out {i}") for i in range(5)] + [("stderr", "to stderr")]
        assert c.get_job(good.id).result == {"exit_code": 0}
        (failed,) = c.list_executions(bad.id)
        assert failed.exit_code == 3
        assert failed.pid is not None
        assert failed.pid != w.pid, "the execution shows the command's pid, not the worker's"
        assert failed.hostname
        error = c.get_job(bad.id).error
        assert error is not None
        assert "exited with code 3" in error["message"]


def test_a_kill_order_ends_the_command_and_its_children(tenant: Tenant, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    env = {"JOBYARD_TEST_LEASE_S": "3"}
    with Client(tenant.server.url, tenant.admin_key) as c:
        job = c.create_job("command", queue="cmd-kill", params={"linger": True, "pids": str(pids)})
        w = start_worker(
            tenant.server.url, tenant.admin_key, "cmd-kill", tmp_path / "w.log", env=env
        )
        try:
            wait_for(lambda: _both_pids(pids), 30, "the command to start")
            command, grandchild = (int(p) for p in pids.read_text().split())
            assert alive(command)
            assert alive(grandchild)
            c.cancel_job(job.id, reason="enough")
            wait_status(c, job.id, "canceled", 15)
            wait_for(
                lambda: not alive(command) and not alive(grandchild), 10, "the processes to go"
            )
            time.sleep(0.5)
        finally:
            stop(w)
        data = [e.data for e in c.iter_logs(job.id)]
        # the lines written before the kill are all there (two pipes: no order between them)
        assert sorted(data) == sorted(["out 0", "out 1", "out 2", "to stderr", "lingering"])


def _both_pids(path: Path) -> bool:
    """The command wrote its pid and its child's (the file may exist before it is written)."""
    return path.exists() and len(path.read_text().split()) == 2
