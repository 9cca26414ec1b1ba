"""The benchmark report, drawn from a fixed run: the table, and targets missed by how much."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.harness import records, report
from bench.harness.runner import summarize


def _run(system: str, workload: str, ok: bool = True, **figures: Any) -> dict[str, Any]:
    return {"system": system, "workload": workload, "repetition": 1, "ok": ok, **figures}


def _doc(runs: list[dict[str, Any]]) -> dict[str, Any]:
    systems = [
        ("jobyard-postgres", "Jobyard (PostgreSQL)"),
        ("celery", "Celery (Redis)"),
        ("rq", "RQ (Redis)"),
    ]
    return {
        "meta": {
            "started_at": "2026-01-01T00:00:00+00:00",
            "duration_s": 600,
            "machine": {
                "cpu": "Test CPU",
                "cores": 2,
                "memory_gib": 24,
                "os": "Linux",
                "kernel": "6",
                "python": "3.11",
            },
            "services": {"postgresql": "15.0", "redis": "7.0"},
            "options": {
                "repeat": 3,
                "jobs": 20000,
                "follow_jobs": 5000,
                "batch": 1000,
                "latency_jobs": 1000,
                "rate": 100.0,
                "workers": 2,
            },
            "systems": [
                {"name": n, "label": label, "settings": ["as documented"], "versions": {n: "1"}}
                for n, label in systems
            ],
        },
        "ceilings": {},
        "runs": runs,
        "summary": summarize(runs),
    }


def test_the_table_holds_medians_and_each_peers_ratio_to_jobyard() -> None:
    runs = [
        _run("jobyard-postgres", "throughput", jobs_per_s=v, cpu_s_per_1k=1.0)
        for v in (900.0, 1000.0, 5000.0)
    ] + [_run("celery", "throughput", jobs_per_s=v) for v in (2000.0, 1900.0, 2100.0)]
    runs.append(_run("celery", "throughput", ok=False, error="RuntimeError: 3 jobs never ran"))
    text = report.render(_doc(runs))
    assert "| Jobyard (PostgreSQL) | 1,000 | 1.00x |" in text
    assert "| Celery (Redis) | 2,000 | 2.00x |" in text
    assert "celery throughput #1: RuntimeError: 3 jobs never ran" in text


def test_a_missed_target_says_by_how_much() -> None:
    runs = [
        _run("jobyard-postgres", "throughput", jobs_per_s=1000.0),
        _run("jobyard-postgres", "follow", jobs_per_s=500.0),
        _run("jobyard-postgres", "latency", latency_p50_ms=10.0, latency_p99_ms=40.0),
        _run("celery", "throughput", jobs_per_s=2000.0),
        _run("rq", "throughput", jobs_per_s=500.0),
    ]
    found = {t.name: t for t in report.targets(_doc(runs))}
    celery = found["Jobyard (PostgreSQL) throughput ≥ Celery (Redis)"]
    assert (celery.met, celery.measured) == (False, "0.50x")
    assert "missed by 50%" in celery.gap
    assert found["Jobyard (PostgreSQL) throughput ≥ RQ (Redis)"].met is True
    p99 = found["idle enqueue-to-start p99 < 25 ms (Jobyard, PostgreSQL)"]
    assert (p99.met, p99.gap) == (False, "missed by 15.0 ms (1.6x)")
    follow = found["following costs ≤ 25% of plain throughput (Jobyard (PostgreSQL))"]
    assert (follow.met, follow.measured) == (False, "50.0% lost")
    assert "missed by 25.0 percentage points" in follow.gap


def test_a_job_run_twice_or_never_makes_no_figure(tmp_path: Path) -> None:
    (tmp_path / "1.rec").write_text("0 10.0 10.5 10.6\n1 10.0 10.2 10.3\n")
    (tmp_path / "2.rec").write_text("1 10.0 10.4 10.5\n")
    got = records.read(tmp_path, expected=3)
    assert not got.complete
    assert got.problem() == "1 of 3 jobs never ran; 1 runs beyond the first"
    (tmp_path / "2.rec").write_text("2 10.0 11.0 12.0\n")
    got = records.read(tmp_path, expected=3)
    assert got.complete
    assert (got.processes, got.last_finished) == (2, 12.0)
    assert sorted(round(x, 3) for x in got.latencies_s) == [0.2, 0.5, 1.0]
