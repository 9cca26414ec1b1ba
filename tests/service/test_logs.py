"""The log service with the lines that come with execution updates: kept bounded as appended
lines are, and announced to tails."""

from __future__ import annotations

from jobyard.domain.entities import ExecutionUpdate, NewLogEntry
from jobyard.notify.local import LocalNotifier
from jobyard.service.auth import Principal
from jobyard.service.executions import ExecutionService
from jobyard.service.logs import DROPPED, LogService, log_topic
from jobyard.service.permissions import Role
from jobyard.store import Store
from tests.store.builders import add_jobs, claim


async def test_lines_sent_with_updates_are_trimmed_now_and_then_and_announced(
    store: Store,
) -> None:
    tenant_id = (await store.tenant_create("acme")).id
    notifier = LocalNotifier()
    logs = LogService(store, notifier, max_lines=20)  # trimmed back to 20 past 22, 24, ...
    executions = ExecutionService(store, notifier, logs=logs)
    admin = Principal(tenant_id, "key-1", Role.ADMIN)
    (job,) = await add_jobs(store, tenant_id, 1)
    await claim(store, tenant_id)
    written = 0

    async def send(n: int) -> list[str]:
        nonlocal written
        lines = [NewLogEntry("stdout", f"line {i}") for i in range(written, written + n)]
        written += n
        (outcome,) = await executions.update_many(admin, [ExecutionUpdate(job.id, 1, logs=lines)])
        assert outcome.applied
        assert outcome.log_lines == written
        return [e.data for e in await logs.read(admin, job.id, after=0)]

    async with notifier.listen([log_topic(tenant_id, job.id)]) as news:
        assert len(await send(20)) == 20
        assert await news.wait(0), "a tail of the job is woken"
    kept = await send(3)  # 23: past 22, trimmed to the newest 19 and a marker
    assert kept == [DROPPED.format(4), *(f"line {i}" for i in range(4, 23))]
    assert len(await send(1)) == 21  # 24: not past 24
    kept = await send(1)  # 25: past 24
    assert kept == [DROPPED.format(6), *(f"line {i}" for i in range(6, 25))]
