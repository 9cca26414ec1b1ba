"""The worker protocol: claim with long-poll, report progress and outcomes, with fencing."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence

from jobyard.domain.entities import (
    ClaimedExecution,
    ClaimRequest,
    Execution,
    ExecutionUpdate,
    UpdateOutcome,
)
from jobyard.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, PayloadTooLarge
from jobyard.domain.ids import is_id
from jobyard.domain.states import TERMINAL_EXECUTION, WORKER_REPORTABLE
from jobyard.domain.states import ExecutionStatus as ES
from jobyard.notify.protocol import Notifier, kill_topic, queue_topic
from jobyard.service import metrics
from jobyard.service.auth import Principal
from jobyard.service.logs import LogService, check_update_output
from jobyard.service.permissions import Op
from jobyard.store.protocol import Store

MAX_CLAIM = 500
MAX_WAIT_S = 30.0
MAX_LEASE_S = 12 * 3600
MAX_UPDATES = 1000
POLL_S = 1.0  # a waiting claim looks again this often, for work that became due by the clock

log = logging.getLogger(__name__)

ExecutionsEnded = Callable[[Sequence[Execution]], Awaitable[None]]


class EndedListeners:
    """Who hears that executions ended: after a worker's applied terminal update and after a
    sweep ended executions on the clock. The runtime wires them (a listener looks at each
    execution's type, say, and ignores what is not its own). A listener runs after the write
    committed; its failure is logged, never raised: the executions have ended either way."""

    def __init__(self) -> None:
        self._listeners: list[ExecutionsEnded] = []

    def add(self, listener: ExecutionsEnded) -> None:
        self._listeners.append(listener)

    async def notify(self, ended: Sequence[Execution]) -> None:
        if not ended:
            return
        for listener in self._listeners:
            try:
                await listener(ended)
            except Exception:
                log.exception("a listener of ended executions failed")


class ExecutionService:
    def __init__(
        self,
        store: Store,
        notifier: Notifier,
        ended: EndedListeners | None = None,
        logs: LogService | None = None,
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.ended = ended if ended is not None else EndedListeners()
        self.logs = logs if logs is not None else LogService(store, notifier)  # updates' lines
        self.closing = asyncio.Event()  # set when the server begins to stop: long-polls answer

    async def claim(
        self, principal: Principal, req: ClaimRequest, wait_s: float
    ) -> tuple[list[ClaimedExecution], list[tuple[str, int]]]:
        """Lease up to `req.max` executions, waiting up to `wait_s` for work. With a worker id,
        the answer also names the executions that worker holds whose jobs got a kill order,
        and a kill order wakes the wait: the long-poll is the worker's push channel. `max` 0
        waits for kill orders only (a worker with no room)."""
        principal.require(Op.EXECUTION_CLAIM)
        if not req.queues:
            raise InvalidInput("queues must name at least one queue", field="queues")
        if not 0 <= req.max <= MAX_CLAIM:
            raise InvalidInput(f"max must be between 0 and {MAX_CLAIM}", field="max")
        if not 1 <= req.lease_s <= MAX_LEASE_S:
            raise InvalidInput(f"lease_s must be between 1 and {MAX_LEASE_S}", field="lease_s")
        if not 0 <= wait_s <= MAX_WAIT_S:
            raise InvalidInput(f"wait_s must be between 0 and {MAX_WAIT_S:g}", field="wait_s")
        if principal.queues is not None and not set(req.queues) <= set(principal.queues):
            raise Forbidden("this key may not claim from those queues")
        req.holder = principal.owner
        if principal.things is not None:
            req.targets = list(principal.things)  # a device key runs only its own things' jobs
        tenant, worker = principal.tenant_id, req.worker.id
        topics = [queue_topic(tenant, q) for q in req.queues] if req.max else []
        if worker:
            topics.append(kill_topic(tenant, worker))
        deadline = time.monotonic() + wait_s
        # Registered before the first look: work announced while a look runs wakes the next
        # wait at once, instead of waiting for the next announcement or the poll.
        async with self.notifier.listen(topics) as listener:
            # The first look reads the kill orders the worker may not know yet with its claim,
            # in one trip where the store can; a look that a kill order woke reads them again.
            if req.max:
                claimed, known = await self.store.execution_claim_with_kills(tenant, req)
            else:
                claimed = []
                known = await self.store.execution_kill_orders(tenant, worker) if worker else []
            kills = known
            while True:
                remaining = deadline - time.monotonic()
                # Kill orders the worker could know already do not end the wait, or a worker
                # whose handler is slow to stop would spin; one registered since does, at once.
                stopping = self.closing.is_set()  # answer now; the worker polls another node
                if claimed or remaining <= 0 or stopping or set(kills) - set(known):
                    for c in claimed:
                        metrics.EXECUTIONS_CLAIMED.labels(tenant, c.execution.queue).inc()
                    return claimed, kills
                woke = await listener.wait(min(remaining, POLL_S))
                if worker and woke and kill_topic(tenant, worker) in listener.heard():
                    kills = await self.store.execution_kill_orders(tenant, worker)
                claimed = await self.store.execution_claim(tenant, req) if req.max else []

    async def update(self, principal: Principal, update: ExecutionUpdate) -> UpdateOutcome:
        """One update; a refusal becomes NotFound or Conflict (409 with the current state)."""
        (outcome,) = await self.update_many(principal, [update])
        if outcome.applied:
            return outcome
        if outcome.error_code == "not_found":
            raise NotFound("execution not found", job_id=update.job_id)
        raise Conflict(
            outcome.message or "update refused",
            reason=outcome.error_code,
            execution=outcome.execution,
            cancel_requested=outcome.cancel_requested,
        )

    async def update_many(
        self, principal: Principal, updates: list[ExecutionUpdate]
    ) -> list[UpdateOutcome]:
        """Many updates in one transaction, each judged on its own."""
        principal.require(Op.EXECUTION_UPDATE)
        if len(updates) > MAX_UPDATES:
            raise PayloadTooLarge(f"at most {MAX_UPDATES} updates in one batch", field="updates")
        for u in updates:
            if u.status is not None and u.status not in WORKER_REPORTABLE:
                raise InvalidInput(
                    f"a worker may not report {u.status.value}; it may report "
                    + ", ".join(sorted(s.value for s in WORKER_REPORTABLE)),
                    field="status",
                )
            if u.lease_s is not None and not 1 <= u.lease_s <= MAX_LEASE_S:
                raise InvalidInput(f"lease_s must be between 1 and {MAX_LEASE_S}", field="lease_s")
            check_update_output(u)
        for u in updates:
            u.holder = principal.holder
        valid = [u for u in updates if is_id(u.job_id)]
        outcomes = iter(
            await self.store.execution_update_many(principal.tenant_id, valid) if valid else []
        )
        result = [
            next(outcomes)
            if is_id(u.job_id)
            else UpdateOutcome(None, False, error_code="not_found", message="no such execution")
            for u in updates
        ]
        handed_back: set[str] = set()
        ended: list[Execution] = []
        counted: Counter[tuple[str, str]] = Counter()
        for u, o in zip(updates, result, strict=True):
            counted[(u.status.value if u.status else "progress", "yes" if o.applied else "no")] += 1
            if o.applied and o.execution is not None and o.execution.status is ES.QUEUED:
                handed_back.add(queue_topic(o.execution.tenant_id, o.execution.queue))
            if o.applied and o.execution is not None and o.execution.status in TERMINAL_EXECUTION:
                ended.append(o.execution)
        for (status, applied), n in counted.items():
            metrics.EXECUTION_UPDATES.labels(principal.tenant_id, status, applied).inc(n)
        if handed_back:  # claimable at once: wake the workers waiting on those queues
            await self.notifier.publish(handed_back)
        await self.logs.written_with_updates(principal.tenant_id, updates, result)
        await self.ended.notify(ended)
        return result
