"""What handlers write while they run reaches the job: lines, `logging` output, record errors."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from jobyard import Client
from jobyard.domain.steps import merge_steps
from jobyard.worker.job_output import (
    ENTRY_BYTES,
    MAX_LINE_BYTES,
    MAX_UPDATE_BYTES,
    MAX_UPDATE_LINES,
    JobOutput,
)
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


def test_output_is_taken_in_pieces_an_update_can_carry() -> None:
    out = JobOutput()
    out.step({"name": "read", "status": "in_progress"})
    out.set_progress({"current": 1, "total": 2, "message": None})
    for i in range(2500):
        out.log(f"line {i}")
    out.record_error(
        "bad", data={"when": datetime(2030, 1, 2, tzinfo=UTC), "amount": Decimal("1.5")}
    )
    pieces = out.take()
    assert [len(p.get("logs", [])) for p, _ in pieces] == [1000, 1000, 500]
    assert [e["data"] for p, _ in pieces for e in p["logs"]] == [f"line {i}" for i in range(2500)]
    assert pieces[0][0]["steps"] == [{"name": "read", "status": "in_progress"}]
    assert pieces[0][0]["progress"]["current"] == 1
    assert all("steps" not in p for p, _ in pieces[1:])
    errors = [e for p, _ in pieces for e in p.get("record_errors", [])]
    assert errors == [
        {
            "message": "bad",
            "retriable": False,
            "data": {"when": "2030-01-02T00:00:00+00:00", "amount": "1.5"},
        }
    ]
    assert out.take() == []
    assert not out.pending()
    out.log("the last")
    out.handler_returned()
    assert not out.pending(), "once the handler returned, its end carries the rest"
    assert [e["data"] for p, _ in out.take() for e in p["logs"]] == ["the last"]


def test_an_update_takes_as_many_lines_as_fit_to_the_line_and_to_the_byte() -> None:
    out = JobOutput()
    for i in range(MAX_UPDATE_LINES + 1):
        out.log(f"line {i}")
    assert [len(p["logs"]) for p, _ in out.take()] == [MAX_UPDATE_LINES, 1]
    per_line = MAX_UPDATE_BYTES // 8  # eight lines fill an update to the byte
    for _ in range(8):
        out.log("x" * (per_line - ENTRY_BYTES))
    ((piece, size),) = out.take()
    assert (len(piece["logs"]), size) == (8, MAX_UPDATE_BYTES)
    for _ in range(8):
        out.log("x" * (per_line - ENTRY_BYTES))
    out.log("y")
    assert [(len(p["logs"]), size) for p, size in out.take()] == [
        (8, MAX_UPDATE_BYTES),
        (1, 1 + ENTRY_BYTES),
    ]


def test_long_lines_are_cut_as_the_server_keeps_them_and_bound_an_update() -> None:
    out = JobOutput()
    for _ in range(20):
        out.log("é" * 100_000)  # 200,000 bytes each
    pieces = out.take()
    assert len(pieces) > 1, "about half a MiB of text an update"
    assert all(size <= MAX_UPDATE_BYTES for _, size in pieces)
    line = pieces[0][0]["logs"][0]["data"]
    assert len(line.encode()) <= MAX_LINE_BYTES
    kept = line[: line.index(" [")]
    assert line.endswith(f" [... line truncated: {200_000 - len(kept.encode())} more bytes]")
    with pytest.raises(ValueError, match="source"):
        out.log("x", source="debug")
    out.log("a\x00b")
    ((piece, _),) = out.take()
    assert piece["logs"][0]["data"] == "a\ufffdb"


def test_a_step_started_and_ended_before_an_update_is_one_report() -> None:
    """The server stamps a start and an end sent together with the same time, so the worker
    sends the end alone; a report that says more than "started", or a step that goes back to
    pending, is kept."""
    out = JobOutput()
    out.step({"name": "read", "status": "in_progress"})
    out.step({"name": "read", "status": "succeeded", "result": {"n": 1}})
    out.step({"name": "write", "status": "in_progress"})
    out.step({"name": "other", "status": "in_progress"})
    out.step({"name": "write", "status": "failed"})  # not the last report: kept in order
    out.step({"name": "late", "status": "in_progress"})
    out.step({"name": "late", "status": "pending"})
    ((fields, _),) = out.take()
    assert fields["steps"] == [
        {"name": "read", "status": "succeeded", "result": {"n": 1}},
        {"name": "write", "status": "in_progress"},
        {"name": "other", "status": "in_progress"},
        {"name": "write", "status": "failed"},
        {"name": "late", "status": "in_progress"},
        {"name": "late", "status": "pending"},
    ]
    now = datetime(2030, 1, 2, tzinfo=UTC)
    both = [{"name": "read", "status": "in_progress"}, {"name": "read", "status": "succeeded"}]
    assert merge_steps([], both, now) == merge_steps([], both[1:], now)
