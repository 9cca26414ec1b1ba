"""Job logs: appends from workers, bounded reads, a live tail, and the whole log as a file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from jobyard.domain.entities import LogEntry, NewLogEntry
from jobyard.domain.errors import InvalidInput, NotFound, PayloadTooLarge
from jobyard.domain.ids import is_id
from jobyard.domain.states import TERMINAL_JOB
from jobyard.notify.protocol import Notifier
from jobyard.service.auth import Principal
from jobyard.service.permissions import Op
from jobyard.store.protocol import Store

SOURCES = frozenset({"stdout", "stderr", "system"})
MAX_LINE_BYTES = 64 * 1024
MAX_APPEND = 10_000
DEFAULT_LIMIT = 5000
MAX_LIMIT = 100_000
PAGE = 1000
TRUNCATED = " [... line truncated: {} more bytes]"
DROPPED = "[jobyard: {} older lines of this execution were dropped to keep the log bounded]"


def log_topic(tenant_id: str, job_id: str) -> str:
    return f"log:{tenant_id}:{job_id}"


def truncate(data: str) -> str:
    """Lines over 64 KiB keep their first 64 KiB (on a character boundary) and a marker."""
    raw = data.encode("utf-8", "surrogatepass")
    if len(raw) <= MAX_LINE_BYTES:
        return data
    head = raw[:MAX_LINE_BYTES].decode("utf-8", "ignore")
    return head + TRUNCATED.format(len(raw) - len(head.encode()))


class LogService:
    def __init__(self, store: Store, notifier: Notifier, max_lines: int = 1_000_000) -> None:
        self.store = store
        self.notifier = notifier
        self.max_lines = max_lines
        self.closing = asyncio.Event()  # set when the server begins to stop: tails end

    async def append(
        self,
        principal: Principal,
        job_id: str,
        execution_number: int,
        entries: Sequence[NewLogEntry],
        worker_id: str | None = None,
    ) -> int:
        """Answers the seq of the last entry written."""
        principal.require(Op.EXECUTION_UPDATE)
        if len(entries) > MAX_APPEND:
            raise PayloadTooLarge(f"at most {MAX_APPEND} entries in one request", field="entries")
        for e in entries:
            if e.source not in SOURCES:
                raise InvalidInput(
                    "source must be one of " + ", ".join(sorted(SOURCES)), field="source"
                )
        clean = [NewLogEntry(e.source, truncate(e.data), e.ts) for e in entries]
        written = (
            await self.store.log_append(
                principal.tenant_id, job_id, execution_number, clean, worker_id, principal.holder
            )
            if is_id(job_id)
            else None
        )
        if written is None:
            raise NotFound("execution not found", job_id=job_id)
        last, lines = written
        # Trim in steps of a tenth of the cap, so a chatty job pays for it now and then only.
        if lines > self.max_lines + self.max_lines // 10:
            await self.store.log_trim(
                principal.tenant_id, job_id, execution_number, self.max_lines, DROPPED
            )
        if clean:
            await self.notifier.publish({log_topic(principal.tenant_id, job_id)})
        return last

    async def _job(self, principal: Principal, job_id: str) -> None:
        principal.require(Op.JOB_READ)
        if not is_id(job_id) or await self.store.job_get(principal.tenant_id, job_id) is None:
            raise NotFound("job not found", job_id=job_id)

    async def read(
        self,
        principal: Principal,
        job_id: str,
        *,
        after: int | None = None,
        limit: int = DEFAULT_LIMIT,
        execution_number: int | None = None,
    ) -> list[LogEntry]:
        """Entries after `after`, oldest first; without `after`, the newest `limit` entries."""
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
        await self._job(principal, job_id)
        return await self.store.log_list(
            principal.tenant_id,
            job_id,
            after=after,
            limit=limit,
            execution_number=execution_number,
        )

    async def everything(
        self, principal: Principal, job_id: str, execution_number: int | None = None
    ) -> AsyncIterator[LogEntry]:
        """The whole log, a page at a time, never all of it in memory."""
        await self._job(principal, job_id)
        return self._pages(principal.tenant_id, job_id, 0, execution_number)

    async def _pages(
        self, tenant_id: str, job_id: str, after: int, execution_number: int | None
    ) -> AsyncIterator[LogEntry]:
        while True:
            page = await self.store.log_list(
                tenant_id, job_id, after=after, limit=PAGE, execution_number=execution_number
            )
            for entry in page:
                yield entry
            if len(page) < PAGE:
                return
            after = page[-1].seq

    async def tail(
        self, principal: Principal, job_id: str, after: int | None, poll_s: float = 1.0
    ) -> AsyncIterator[LogEntry]:
        """Backlog after `after`, then each entry as it arrives; ends once the job is terminal
        and every entry written before that was sent."""
        await self._job(principal, job_id)
        return self._follow(principal.tenant_id, job_id, after or 0, poll_s)

    async def _follow(
        self, tenant_id: str, job_id: str, after: int, poll_s: float
    ) -> AsyncIterator[LogEntry]:
        async with self.notifier.listen([log_topic(tenant_id, job_id)]) as news:
            while True:
                job = await self.store.job_get(tenant_id, job_id)
                finished = job is None or job.status in TERMINAL_JOB
                sent = 0
                async for entry in self._pages(tenant_id, job_id, after, None):
                    yield entry
                    after = entry.seq
                    sent += 1
                if finished or self.closing.is_set():
                    # read after the job ended: nothing written before it is missed; a server
                    # that stops ends its tails, which clients resume elsewhere from their seq
                    return
                if not sent:
                    await news.wait(poll_s)  # registered before the read: no append is missed
