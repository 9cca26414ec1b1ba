"""The systems the harness measures, in the order it runs them."""

from __future__ import annotations

from bench.systems.base import System
from bench.systems.celery_redis import CeleryRedis
from bench.systems.jobyard import Jobyard
from bench.systems.pgqueuer_pg import PgQueuerPostgres
from bench.systems.procrastinate_pg import ProcrastinatePostgres
from bench.systems.rq_redis import RqRedis


def all_systems() -> list[System]:
    return [
        Jobyard("sqlite"),
        Jobyard("postgres"),
        CeleryRedis(),
        RqRedis(),
        ProcrastinatePostgres(),
        PgQueuerPostgres(),
    ]
