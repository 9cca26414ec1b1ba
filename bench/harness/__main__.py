"""Measure Jobyard beside Celery, RQ, Procrastinate and PgQueuer on this machine.

    scripts/bench                      # everything, 3 repetitions (about 30 minutes)
    scripts/bench --quick              # a smoke run: small counts, 1 repetition
    scripts/bench --systems jobyard-postgres,celery --workloads throughput --repeat 1

`scripts/bench` installs the peers into bench/.peers-venv first and passes `--peers-python`.
Writes bench/results/latest.{json,md,png} and prints the table; exits 1 when a run failed.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

from bench.harness import report
from bench.harness.runner import Plan, run
from bench.harness.workloads import WORKLOADS, Sizes
from bench.systems import all_systems
from bench.systems.base import ROOT, Setup

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379"
RESULTS = ROOT / "bench" / "results"
PEERS_PYTHON = ROOT / "bench" / ".peers-venv" / "bin" / "python"
DEFAULTS = (  # option, full run, --quick
    ("repeat", 3, 1),
    ("jobs", 20_000, 2000),
    ("latency_jobs", 1000, 200),
    ("ceiling_seconds", 10.0, 2.0),
)


def _parser() -> argparse.ArgumentParser:
    names = [s.name for s in all_systems()]
    p = argparse.ArgumentParser(
        prog="python -m bench.harness",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--repeat", type=int, help="repetitions of each run (3; --quick 1)")
    p.add_argument("--jobs", type=int, help="jobs per throughput run (20,000; --quick 2,000)")
    p.add_argument(
        "--follow-jobs",
        type=int,
        help="jobs per followed run (as many as --jobs: the price of following is read off the "
        "same amount of work)",
    )
    p.add_argument("--batch", type=int, default=1000, help="jobs per enqueue batch (1,000)")
    p.add_argument("--latency-jobs", type=int, help="jobs per latency run (1,000; --quick 200)")
    p.add_argument("--rate", type=float, default=100.0, help="latency: jobs a second (100)")
    p.add_argument(
        "--latency-warmup-s",
        type=float,
        default=2.0,
        help="latency: seconds of jobs at the same rate before the measured ones (2)",
    )
    p.add_argument("--workers", type=int, default=2, help="worker processes per system (2)")
    p.add_argument("--systems", default=",".join(names), help=f"among {','.join(names)}")
    p.add_argument("--workloads", default=",".join(WORKLOADS), help=f"among {','.join(WORKLOADS)}")
    p.add_argument("--quick", action="store_true", help="a smoke run: the --quick counts above")
    p.add_argument("--no-ceilings", action="store_true", help="skip pgbench and the endpoint")
    p.add_argument("--ceiling-seconds", type=float, help="each ceiling's load, s (10; --quick 2)")
    p.add_argument("--out", type=Path, default=RESULTS, help="where the results go")
    p.add_argument("--name", default="latest", help="file names of the results (latest)")
    p.add_argument("--peers-python", type=Path, default=PEERS_PYTHON)
    p.add_argument("--pg-admin-url", default=PG_ADMIN_URL)
    p.add_argument("--redis-url", default=REDIS_URL, help="the Redis server (no database)")
    p.add_argument("--redis-db", type=int, default=13, help="Redis database the harness owns (13)")
    g = p.add_argument_group("Jobyard")
    g.add_argument("--jobyard-concurrency", type=int, default=32, help="handlers per worker (32)")
    g.add_argument("--jobyard-prefetch", type=int, default=224, help="jobs claimed ahead (224)")
    g.add_argument(
        "--jobyard-rate-limit", type=float, default=None, help="server requests/s per key"
    )
    g.add_argument(
        "--jobyard-server-processes",
        type=int,
        default=1,
        help="`jobyard serve --processes` on PostgreSQL (1)",
    )
    g = p.add_argument_group("peers")
    g.add_argument("--celery-pool", default="solo", help="Celery's pool (solo)")
    g.add_argument("--celery-concurrency", type=int, default=1, help="Celery pool size (1)")
    g.add_argument("--celery-prefetch-multiplier", type=int, default=128, help="(128)")
    g.add_argument("--procrastinate-concurrency", type=int, default=16, help="(16)")
    g.add_argument("--pgqueuer-batch-size", type=int, default=10, help="(10)")
    return p


def _redis_facts(peers_python: Path, url: str) -> dict[str, str | int]:
    out = subprocess.run(
        [str(peers_python), "-m", "bench.peers.about", "redis", url],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"cannot reach Redis at {url}: {out.stderr.strip()[-500:]}")
    facts: dict[str, str | int] = json.loads(out.stdout)
    return facts


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds every session: databases dropped, processes stopped


def main(argv: list[str] | None = None) -> int:
    p = _parser()
    a = p.parse_args(argv)
    for name, full, quick in DEFAULTS:
        if getattr(a, name) is None:
            setattr(a, name, quick if a.quick else full)
    if a.follow_jobs is None:
        a.follow_jobs = a.jobs
    chosen = a.systems.split(",")
    systems = [s for s in all_systems() if s.name in chosen]
    unknown = set(chosen) - {s.name for s in systems}
    workloads = a.workloads.split(",")
    if unknown or not set(workloads) <= set(WORKLOADS):
        p.error(
            f"unknown systems or workloads: {sorted(unknown | (set(workloads) - set(WORKLOADS)))}"
        )
    if not a.peers_python.exists():
        p.error(f"{a.peers_python} does not exist: scripts/bench makes it")
    redis_url = f"{a.redis_url.rstrip('/')}/{a.redis_db}"
    redis = _redis_facts(a.peers_python, redis_url)
    setup = Setup(
        workers=a.workers,
        pg_admin_url=a.pg_admin_url,
        redis_url=redis_url,
        redis_pid=int(redis["pid"]),
        peers_python=a.peers_python,
        jobyard_concurrency=a.jobyard_concurrency,
        jobyard_prefetch=a.jobyard_prefetch,
        jobyard_rate_limit=a.jobyard_rate_limit,
        jobyard_server_processes=a.jobyard_server_processes,
        celery_pool=a.celery_pool,
        celery_concurrency=a.celery_concurrency,
        celery_prefetch_multiplier=a.celery_prefetch_multiplier,
        procrastinate_concurrency=a.procrastinate_concurrency,
        pgqueuer_batch_size=a.pgqueuer_batch_size,
    )
    plan = Plan(
        systems=systems,
        workloads=workloads,
        repeat=a.repeat,
        sizes=Sizes(
            jobs=a.jobs,
            follow_jobs=a.follow_jobs,
            batch=a.batch,
            latency_jobs=a.latency_jobs,
            rate=a.rate,
            latency_warmup=round(a.latency_warmup_s * a.rate),
        ),
        setup=setup,
        ceilings=not a.no_ceilings,
        ceiling_s=a.ceiling_seconds,
        scratch_dir=a.out / "scratch",
        services={
            "redis": str(redis["version"]),
            "redis_persistence": str(redis["persistence"]),
        },
    )
    signal.signal(signal.SIGTERM, _stop)
    doc = run(plan, say=lambda line: print(line, flush=True))
    a.out.mkdir(parents=True, exist_ok=True)
    paths = report.write(doc, a.out, a.name, a.peers_python)
    print()
    print(report.table(doc))
    print("\n" + "\n".join(f"wrote {path}" for path in paths))
    return 1 if any(not r["ok"] for r in doc["runs"]) else 0


if __name__ == "__main__":
    sys.exit(main())
