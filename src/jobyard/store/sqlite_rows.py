"""Values as SQLite keeps them, for the statements of fixed text its hot paths run as the driver
takes them (`sqlite_hot_path.py`, `sqlite_claims.py`): ids as 32 hex digits, times as epoch
seconds, JSON as its text. SQLAlchemy's column types do the same for the general path, at a
cost a batch of thousands of rows feels.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from jobyard.domain.entities import Execution
from jobyard.store.rows import EXECUTION_STATUS

# The columns of an executions row that `execution_of` reads, in its order.
EXECUTION_COLUMNS = (
    "tenant_id, job_id, execution_number, status, version, queue, type, priority, target, "
    "status_details, queued_at, available_at, started_at, last_updated_at, completed_at, "
    "lease_s, lease_expires_at, worker_id, hostname, pid, exit_code, log_lines"
)


def hex_id(id_: str) -> str:
    """An id as SQLite keeps it (`Uuid` without native support: 32 lowercase hex digits)."""
    return id_.replace("-", "")


def dashed_id(h: str) -> str:
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def json_text(value: Any) -> str | None:
    """A JSON value as its text, carried as a string inside a statement's JSON rows, so that
    `->>` gives back that text whatever the value is."""
    return None if value is None else orjson.dumps(value).decode()


def epoch_time(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def execution_of(r: Sequence[Any]) -> Execution:
    """An executions row as a statement returns `EXECUTION_COLUMNS`: SQLite's own values."""
    return Execution(
        tenant_id=dashed_id(r[0]),
        job_id=dashed_id(r[1]),
        execution_number=r[2],
        status=EXECUTION_STATUS[r[3]],
        version=r[4],
        queue=r[5],
        type=r[6],
        priority=r[7],
        target=r[8],
        status_details=orjson.loads(r[9]) if r[9] else {},
        queued_at=epoch_time(r[10]),  # type: ignore[arg-type]
        available_at=epoch_time(r[11]),  # type: ignore[arg-type]
        started_at=epoch_time(r[12]),
        last_updated_at=epoch_time(r[13]),  # type: ignore[arg-type]
        completed_at=epoch_time(r[14]),
        lease_s=r[15],
        lease_expires_at=epoch_time(r[16]),
        worker_id=r[17],
        hostname=r[18],
        pid=r[19],
        exit_code=r[20],
    )


async def fetch(conn: AsyncConnection, sql: str, params: tuple[Any, ...]) -> list[Sequence[Any]]:
    """The rows a statement of fixed text answers, as the driver gives them."""
    result = await conn.exec_driver_sql(sql, params)
    return cast(list[Sequence[Any]], result.all())
