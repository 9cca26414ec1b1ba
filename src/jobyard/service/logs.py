"""Job logs: appends from workers, bounded reads, a live tail, and the whole log as a file.

Lines reach a log two ways: the logs route (`append`), and with a worker's execution updates
(`check_update_output` before the write, `written_with_updates` after it), which is how the
worker runtime sends them: a burst of jobs costs one request, and a job's last lines commit
with its end. Both number, bound and announce lines alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from jobyard.domain.checked_lines import CheckedLines
from jobyard.domain.entities import ExecutionUpdate, LogEntry, NewLogEntry, UpdateOutcome
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
MAX_UPDATE_LINES = 1000  # log lines with one execution update
MAX_UPDATE_RECORD_ERRORS = 1000  # record errors with one execution update
DEFAULT_LIMIT = 5000
MAX_LIMIT = 100_000
PAGE = 1000
TRUNCATED = " [... line truncated: {} more bytes]"
DROPPED = "[jobyard: {} older lines of this execution were dropped to keep the log bounded]"


# A line of at most this many characters is at most MAX_LINE_BYTES in UTF-8 (4 bytes a character
# at most): it needs no cut, nor the encoding that would tell.
SURELY_SHORT = MAX_LINE_BYTES // 4


LOG_TOPICS = "log:"  # the family of every job's log topic: published often, waited for rarely


def log_topic(tenant_id: str, job_id: str) -> str:
    return f"{LOG_TOPICS}{tenant_id}:{job_id}"


def truncate(data: str) -> str:
    """Lines over 64 KiB keep their first 64 KiB (on a character boundary) and a marker."""
    raw = data.encode("utf-8", "surrogatepass")
    if len(raw) <= MAX_LINE_BYTES:
        return data
    head = raw[:MAX_LINE_BYTES].decode("utf-8", "ignore")
    return head + TRUNCATED.format(len(raw) - len(head.encode()))


def check_sources(entries: Sequence[NewLogEntry], field: str) -> None:
    for e in entries:
        if e.source not in SOURCES:
            raise InvalidInput("source must be one of " + ", ".join(sorted(SOURCES)), field=field)


def check_update_output(u: ExecutionUpdate) -> None:
    """Bound the lines and record errors an update carries, and cut long lines, as the append
    routes do (the API's own checks come first; these hold for every caller)."""
    if u.logs is not None:
        if len(u.logs) > MAX_UPDATE_LINES:
            raise PayloadTooLarge(
                f"at most {MAX_UPDATE_LINES} log lines in one update", field="logs"
            )
        if not isinstance(u.logs, CheckedLines):  # those passed the rest as they were read
            check_sources(u.logs, "logs")
            if any(len(e.data) > SURELY_SHORT for e in u.logs):
                u.logs = [NewLogEntry(e.source, truncate(e.data), e.ts) for e in u.logs]
    if u.record_errors is not None and len(u.record_errors) > MAX_UPDATE_RECORD_ERRORS:
        raise PayloadTooLarge(
            f"at most {MAX_UPDATE_RECORD_ERRORS} record errors in one update",
            field="record_errors",
        )


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
        check_sources(entries, "source")
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
        if self._trim_due(lines, len(clean)):
            await self.store.log_trim(
                principal.tenant_id, job_id, execution_number, self.max_lines, DROPPED
            )
        if clean:
            await self.notifier.publish({log_topic(principal.tenant_id, job_id)})
        return last

    def _trim_due(self, lines: int, added: int) -> bool:
        """Whether the `added` lines that brought an execution's count (of lines it has had in
        all) to `lines` passed the cap plus another tenth of it: a log is trimmed back to the cap
        then, so a chatty job pays for it now and then, not at every append."""
        step = max(self.max_lines // 10, 1)
        passed = (lines - self.max_lines - 1) // step
        return passed >= 1 and passed > (lines - added - self.max_lines - 1) // step

    async def written_with_updates(
        self,
        tenant_id: str,
        updates: Sequence[ExecutionUpdate],
        outcomes: Sequence[UpdateOutcome],
    ) -> None:
        """After a batch of updates committed: keep the logs its lines went to bounded, and wake
        the tails of those jobs, as an append does."""
        added: dict[tuple[str, int], int] = {}
        totals: dict[tuple[str, int], int] = {}
        for u, o in zip(updates, outcomes, strict=True):
            if o.applied and u.logs and o.log_lines is not None:
                key = (u.job_id, u.execution_number)
                added[key] = added.get(key, 0) + len(u.logs)
                totals[key] = o.log_lines
        for (job_id, number), n in sorted(added.items()):
            if self._trim_due(totals[(job_id, number)], n):
                await self.store.log_trim(tenant_id, job_id, number, self.max_lines, DROPPED)
        await self.notifier.publish({log_topic(tenant_id, job_id) for job_id, _ in added})

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
