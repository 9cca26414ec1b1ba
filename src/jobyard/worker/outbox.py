"""The worker's one line to the server: every execution update, with the output it carries.

Heartbeats, progress, log lines, record errors, completions and hand-backs all go through one
sender, in batches (`POST /v1/executions/batch`), so that updates of one execution never race
each other and reach the server in the order they were sent, and a burst of jobs costs one
request. A batch the server cannot be reached for is kept and sent again: completions are not
dropped. A batch the server refuses for one update (a value it cannot keep) is sent again
without that update's output, or without that update: one bad report never costs the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from jobyard.client import json_text
from jobyard.client.async_client import AsyncClient
from jobyard.client.errors import ApiError, JobyardClientError, RateLimitedError, ValidationError
from jobyard.client.models import BatchResult, ExecutionUpdate

log = logging.getLogger("jobyard.worker")

MAX_BATCH = 500
MAX_BATCH_BYTES = 4 * 1024 * 1024  # the output a batch carries, about: far below 16 MiB
UPDATE_BYTES = 256  # what an update adds to a request besides its output
LINGER_S = 0.01
_NAMED = re.compile(r"updates\.(\d+)(?:\.(\w+))?")


@dataclass
class Pending:
    update: ExecutionUpdate
    size: int = 0  # of its lines and records
    done: asyncio.Future[BatchResult] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


def _refused(pending: list[Pending], code: str, message: str) -> list[BatchResult]:
    return [
        BatchResult.model_validate(
            {
                "job_id": p.update.job_id,
                "execution_number": p.update.execution_number,
                "ok": False,
                "error": {"code": code, "message": message},
            }
        )
        for p in pending
    ]


def _encodes(update: ExecutionUpdate) -> bool:
    """Whether the update can be written as the JSON a request carries."""
    try:
        json_text.dumps(update.body())
    except (TypeError, ValueError):
        return False
    return True


OUTPUT = ("logs", "record_errors")


def _without(update: ExecutionUpdate, fields: tuple[str, ...]) -> ExecutionUpdate | None:
    """The update without those fields of its output; None when it carries none of them."""
    if all(getattr(update, f) is None for f in fields):
        return None
    return update.model_copy(update=dict.fromkeys(fields))


class Outbox:
    def __init__(self, client: AsyncClient, on_result: Callable[[BatchResult], None]) -> None:
        self.client = client
        self.on_result = on_result
        self._queue: asyncio.Queue[Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="jobyard-outbox")

    def send(self, update: ExecutionUpdate, size: int = 0) -> asyncio.Future[BatchResult]:
        """Queue an update (`size`: of the output it carries); answers its result, once the
        server has answered."""
        pending = Pending(update, size)
        self._queue.put_nowait(pending)
        return pending.done

    async def flush(self, timeout_s: float) -> None:
        """Wait until everything queued so far was answered (or `timeout_s` passed)."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._queue.join()
        except TimeoutError:
            log.warning("%d updates were not delivered before shutdown", self._queue.qsize())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        carried: Pending | None = None  # taken from the queue, but past the last batch's size
        while True:
            if carried is None:
                batch = [await self._queue.get()]
                await asyncio.sleep(LINGER_S)
            else:
                batch, carried = [carried], None
            size = batch[0].size + UPDATE_BYTES
            while len(batch) < MAX_BATCH and not self._queue.empty():
                p = self._queue.get_nowait()
                if size + p.size + UPDATE_BYTES > MAX_BATCH_BYTES:
                    carried = p
                    break
                batch.append(p)
                size += p.size + UPDATE_BYTES
            results = await self._deliver(batch)
            for pending, result in zip(batch, results, strict=True):
                self.on_result(result)
                if not pending.done.done():
                    pending.done.set_result(result)
                self._queue.task_done()

    async def _deliver(self, batch: list[Pending]) -> list[BatchResult]:
        """Send the batch until the server answers it; one result per update, in order."""
        backoff = 0.5
        while True:
            try:
                updates = [p.update for p in batch]
                return await self.client.update_executions(updates, minimal=True)
            except ValidationError as exc:
                if exc.status_code == 413 and len(batch) > 1:  # too big after all: in halves
                    half = len(batch) // 2
                    return [*await self._deliver(batch[:half]), *await self._deliver(batch[half:])]
                named = _NAMED.match(str(exc.details.get("field", "")))
                if named is None or int(named[1]) >= len(batch):
                    log.error("execution updates refused: %s", exc)
                    return _refused(batch, exc.code, exc.message)
                bad = int(named[1])
                fields: tuple[str, ...] = (named[2],) if named[2] in OUTPUT else ()
                if not self._set_aside(batch, bad, fields, exc.message):
                    return await self._deliver_without(batch, bad, exc.code, exc.message)
            except RateLimitedError as exc:  # still, after the client's own retries
                log.warning("execution updates rate limited, will retry: %s", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
            except ApiError as exc:  # the whole batch was refused: report it on each row
                log.error("execution updates refused: %s", exc)
                return _refused(batch, exc.code, exc.message)
            except JobyardClientError as exc:
                log.warning("cannot deliver %d updates, will retry: %s", len(batch), exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
            except (TypeError, ValueError) as exc:  # a value JSON cannot carry (NaN, an object)
                culprit = next((i for i, p in enumerate(batch) if not _encodes(p.update)), None)
                if culprit is None:
                    raise
                stripped = _without(batch[culprit].update, OUTPUT)
                fields = OUTPUT if stripped is not None and _encodes(stripped) else ()
                if not self._set_aside(batch, culprit, fields, str(exc)):
                    return await self._deliver_without(batch, culprit, "invalid_input", str(exc))

    def _set_aside(self, batch: list[Pending], bad: int, fields: tuple[str, ...], why: str) -> bool:
        """Drop those fields of update `bad`'s output, the part the server cannot take; False
        when there is none to drop (the update itself is at fault)."""
        stripped = _without(batch[bad].update, fields) if fields else None
        if stripped is None:
            return False
        log.warning("job %s: %s refused, dropped: %s", stripped.job_id, " and ".join(fields), why)
        batch[bad].update = stripped
        return True

    async def _deliver_without(
        self, batch: list[Pending], bad: int, code: str, why: str
    ) -> list[BatchResult]:
        """Refuse update `bad` alone and deliver the others."""
        log.error("job %s: update refused: %s", batch[bad].update.job_id, why)
        rest = batch[:bad] + batch[bad + 1 :]
        results = await self._deliver(rest) if rest else []
        return [*results[:bad], *_refused([batch[bad]], code, why), *results[bad:]]
