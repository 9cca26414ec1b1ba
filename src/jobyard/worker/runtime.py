"""`Worker`: claims jobs for its handlers, keeps their leases alive, and reports how they ended.

One asyncio loop runs five kinds of task: a claimer (batched, long-polled claims with prefetch),
`concurrency` runners (each runs one handler at a time: async handlers as tasks, sync handlers in
threads), a heartbeat that renews every held lease, an output loop that sends what running
handlers wrote, and the outbox that sends all updates. What a handler writes (lines, record
errors, steps, progress, counters) rides with its execution's updates, in the one outbox: a
running job's every OUTPUT_INTERVAL_S, the rest with its completion, so the lines written before
the end reach the log in the same write as the end, and a burst of jobs costs one request.
An execution counts against `concurrency + prefetch` from its claim until its outcome is handed
to the outbox, not until the server has answered: the next claim overlaps the last completions.
SIGTERM (or a first SIGINT) stops claiming, hands unstarted jobs back at once, and lets running
handlers finish within `grace_s`; a second SIGINT stops at once.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import os
import signal
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from jobyard.client.async_client import AsyncClient
from jobyard.client.errors import JobyardClientError
from jobyard.client.models import BatchResult, ExecutionRef, ExecutionUpdate, WorkerInfo
from jobyard.worker import outcomes
from jobyard.worker.context import JobContext
from jobyard.worker.job_output import OUTPUT_FIELDS, CaptureHandler, current_output
from jobyard.worker.outbox import Outbox
from jobyard.worker.process import TERM_GRACE_S, run_command

log = logging.getLogger("jobyard.worker")

Handler = Callable[[JobContext], Any]
H = TypeVar("H", bound=Handler)
Key = tuple[str, int]
OUTPUT_INTERVAL_S = 0.25

CLAIM_LINGER_S = 0.005


class Worker:
    def __init__(
        self,
        queues: list[str] | tuple[str, ...] = ("default",),
        *,
        concurrency: int = 4,
        prefetch: int | None = None,
        lease_s: int = 30,
        wait_s: float = 10.0,
        grace_s: float = 30.0,
        kill_grace_s: float = 10.0,
        url: str | None = None,
        api_key: str | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.queues = list(queues)
        self.concurrency = concurrency
        self.prefetch = concurrency if prefetch is None else prefetch
        self.lease_s = lease_s
        self.wait_s = wait_s
        self.grace_s = grace_s
        self.kill_grace_s = kill_grace_s
        self.url = url
        self.api_key = api_key
        hostname = socket.gethostname()
        self.info = WorkerInfo(
            id=worker_id or f"{hostname}:{os.getpid()}:{uuid.uuid4().hex[:8]}",
            hostname=hostname,
            pid=os.getpid(),
        )
        self.handlers: dict[str, Handler] = {}
        self._held: dict[Key, JobContext] = {}
        self._tasks: dict[Key, asyncio.Task[Any]] = {}
        self._overs: dict[Key, _Over] = {}  # of the handlers running (`_execute`)
        self._fresh_state()

    def _fresh_state(self) -> None:
        self._ready: asyncio.Queue[JobContext] = asyncio.Queue()
        self._room = asyncio.Event()  # set whenever a held execution is settled or let go
        self._kill_poll: asyncio.Task[None] | None = None  # see `_await_room`
        self._active = 0  # held executions not settled yet: what counts against the capacity
        self._stopping = asyncio.Event()
        self._hard_stop = asyncio.Event()

    # registration --------------------------------------------------------------------------
    def handler(self, job_type: str) -> Callable[[H], H]:
        """Register the decorated function (sync or async) for jobs of `job_type`."""

        def register(fn: H) -> H:
            if job_type in self.handlers:
                raise ValueError(f"a handler for {job_type!r} is already registered")
            self.handlers[job_type] = fn
            return fn

        return register

    def command(
        self,
        job_type: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        term_grace_s: float = TERM_GRACE_S,
    ) -> None:
        """Run the command `argv` as each job of `job_type` (see `jobyard.worker.process`).

        The command is fixed here, never taken from the job: whoever may create jobs must not
        be able to choose what runs on the worker. The job's params reach it in JOBYARD_PARAMS.
        """

        async def run(ctx: JobContext) -> dict[str, int]:
            code = await run_command(ctx, argv, env=env, cwd=cwd, term_grace_s=term_grace_s)
            return {"exit_code": code}

        self.handler(job_type)(run)

    # running -------------------------------------------------------------------------------
    def run(self) -> int:
        """Run until SIGTERM or SIGINT; answers the process exit code."""
        with asyncio.Runner(loop_factory=_new_loop) as runner:
            return runner.run(self.run_async(install_signals=True))

    def stop(self) -> None:
        """Begin a graceful stop (as SIGTERM does)."""
        self._stopping.set()

    async def run_async(self, install_signals: bool = False) -> int:
        if not self.handlers:
            raise ValueError("register at least one handler before running the worker")
        self._fresh_state()
        if install_signals:
            self._install_signals()
        pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="jobyard-handler")
        async with AsyncClient(self.url, self.api_key) as client:
            outbox = Outbox(client, self._on_result)
            outbox.start()
            capture = CaptureHandler()
            logging.getLogger().addHandler(capture)
            sender = asyncio.create_task(self._output_loop(outbox), name="jobyard-output")
            claimer = asyncio.create_task(self._claim_loop(client), name="jobyard-claimer")
            beat = asyncio.create_task(self._heartbeat_loop(outbox), name="jobyard-heartbeat")
            runners = [
                asyncio.create_task(self._runner(outbox, pool), name=f"jobyard-runner-{i}")
                for i in range(self.concurrency)
            ]
            log.info(
                "worker %s: queues %s, handlers %s", self.info.id, self.queues, list(self.handlers)
            )
            await self._stopping.wait()
            code = await self._shutdown(claimer, runners, outbox)
            beat.cancel()
            sender.cancel()
            await asyncio.gather(beat, sender, return_exceptions=True)
            await outbox.close()
            logging.getLogger().removeHandler(capture)
        pool.shutdown(wait=False, cancel_futures=True)
        return code

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        stopping, hard = self._stopping, self._hard_stop

        def on_sigint() -> None:
            if stopping.is_set():
                log.warning("second interrupt: stopping now")
                hard.set()
                self._room.set()
            stopping.set()

        loop.add_signal_handler(signal.SIGTERM, stopping.set)
        loop.add_signal_handler(signal.SIGINT, on_sigint)

    async def _claim_loop(self, client: AsyncClient) -> None:
        types = sorted(self.handlers)
        capacity = self.concurrency + self.prefetch
        worthwhile = max(1, capacity // 2)
        backoff = 0.5
        drained = True  # the last answer held less than was asked: the queues are empty
        while True:
            room = capacity - self._active
            # Claim at once when a runner would otherwise wait; else only a batch worth a request,
            # so that a steady flow of completions does not become a flood of one-job claims.
            if room <= 0 or (room < worthwhile and not self._ready.empty()):
                await self._await_room(client)
                continue
            # While work is waiting, quick handlers free many places at once: wait for them.
            # With the queues empty, the next job is best met by a claim already waiting for it.
            if room < capacity and not drained:
                await asyncio.sleep(CLAIM_LINGER_S)
                room = capacity - self._active
            asked = min(room, 500)
            try:
                answer = await client.claim_answer(
                    self.queues,
                    types=types,
                    max=asked,
                    lease_s=self.lease_s,
                    wait_s=self.wait_s,
                    worker=self.info,
                )
                claimed = answer.executions
                drained = len(claimed) < asked
                self._kill_orders(answer.cancel_requested)
                backoff = 0.5
            except JobyardClientError as exc:
                log.warning("claim failed, trying again: %s", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            for c in claimed:
                ctx = JobContext(c)
                self._held[(c.job_id, c.execution_number)] = ctx
                self._active += 1
                self._ready.put_nowait(ctx)

    async def _await_room(self, client: AsyncClient) -> None:
        """Wait for a free place; meanwhile a long poll for kill orders (a claim of nothing)
        is open, so that a kill order reaches a busy worker at once, not at its next lease
        renewal. The poll is not dropped when a place frees: dropping a request half-way closes
        its connection, and a worker that fills up many times a second would open a new one
        each time. It ends by itself, with the long poll it is in when there is room."""
        self._room.clear()
        if self._kill_poll is None or self._kill_poll.done():
            self._kill_poll = asyncio.create_task(
                self._poll_kill_orders(client), name="jobyard-kill-orders"
            )
        await self._room.wait()

    async def _poll_kill_orders(self, client: AsyncClient) -> None:
        assert self.info.id is not None
        while not self._room.is_set():
            try:
                refs = await client.kill_orders(self.info.id, self.queues, self.wait_s)
            except JobyardClientError as exc:
                log.warning("waiting for kill orders failed: %s", exc)
                await asyncio.sleep(1.0)
                continue
            self._kill_orders(refs)

    def _kill_orders(self, refs: list[ExecutionRef]) -> None:
        for ref in refs:
            ctx = self._held.get((ref.job_id, ref.execution_number))
            if ctx is not None and not ctx.cancelled:
                log.info("job %s: kill order", ref.job_id)
                self._cancel(ctx)

    async def _runner(self, outbox: Outbox, pool: ThreadPoolExecutor) -> None:
        while True:
            ctx = await self._ready.get()
            key = (ctx.job_id, ctx.execution_number)
            if ctx.cancelled:  # lost or canceled before it started
                self._settle(key, outbox, outcomes.cancelled() if not ctx.lease_lost else None)
                continue
            outcome = await self._execute(ctx, pool)
            self._settle(key, outbox, None if ctx.lease_lost else outcome)

    async def _execute(self, ctx: JobContext, pool: ThreadPoolExecutor) -> outcomes.Outcome:
        """Run the handler; a kill order cancels it, and one it ignores for `kill_grace_s` is
        abandoned (a thread cannot be killed: it runs on, but nothing it reports is sent)."""
        handler = self.handlers[ctx.type]
        key = (ctx.job_id, ctx.execution_number)
        loop = asyncio.get_running_loop()
        work: asyncio.Future[Any]
        if inspect.iscoroutinefunction(handler):
            work = asyncio.create_task(_call_async(handler, ctx))
            self._tasks[key] = work
        else:
            scope = contextvars.copy_context()
            scope.run(current_output.set, ctx.output)
            work = loop.run_in_executor(pool, scope.run, _call, handler, ctx)
        # Done when the handler is, or when a kill order's grace is over (`_cancel` sets the
        # timer): one future and a callback a job, rather than a watchdog task.
        over = _Over(loop.create_future())
        work.add_done_callback(over.end)
        self._overs[key] = over
        if ctx.cancelled_event.is_set():
            over.end_in(loop, self.kill_grace_s)
        try:
            await over.future
        finally:
            over.stop_timer()
            self._overs.pop(key, None)
            self._tasks.pop(key, None)
        if not work.done():
            log.warning(
                "job %s: the handler ignored the kill order for %.0f s; abandoning it",
                ctx.job_id,
                self.kill_grace_s,
            )
            work.cancel()
            return outcomes.cancelled("the handler did not stop in time and was abandoned")
        try:
            value = work.result()
        except asyncio.CancelledError:
            return outcomes.cancelled()
        except Exception as exc:
            return outcomes.cancelled() if ctx.cancelled else outcomes.from_exception(exc)
        return outcomes.cancelled() if ctx.cancelled else outcomes.from_return(value)

    def _settle(self, key: Key, outbox: Outbox, outcome: outcomes.Outcome | None) -> None:
        """Report the end of an execution, with what its handler wrote and has not been sent
        (the lines written before the end come first); it leaves `_held` once the server
        answered."""
        ctx = self._held.get(key)
        if ctx is None or outcome is None:  # lost: nothing more of it is ours to send
            if ctx is not None:
                self._mark_settled(ctx)
            self._release_slot(key)
            return
        self._mark_settled(ctx)
        answered = self._report(
            ctx,
            outbox,
            status=outcome.status,
            result=outcome.result,
            error=outcome.error,
            exit_code=ctx.exit_code,
        )
        answered.add_done_callback(lambda _f: self._release_slot(key))

    def _mark_settled(self, ctx: JobContext) -> None:
        """Its last report is decided: heartbeats stop, and its place may be claimed again."""
        if not ctx.settled:
            ctx.settled = True
            self._active -= 1
            self._room.set()

    def _release_slot(self, key: Key) -> None:
        self._held.pop(key, None)
        self._room.set()

    def _report(self, ctx: JobContext, outbox: Outbox, **fields: Any) -> asyncio.Future[Any]:
        """Send an update of `ctx` with `fields`, carrying what its handler wrote and has not been
        sent: more output than one update may carry goes first, in updates of its own. Answers
        the future of the last update (the outbox answers them in order)."""
        pieces = ctx.output.take() or [({}, 0)]
        *first, (output, size) = pieces
        for piece, piece_size in first:
            outbox.send(self._update(ctx, **piece), piece_size)
        return outbox.send(self._update(ctx, **output, **fields), size)

    def _update(self, ctx: JobContext, **fields: Any) -> ExecutionUpdate:
        # What the handler wrote is set as the output buffer made it (`JobOutput.take`, in the
        # model's shapes), not validated again: that copied every line of every update.
        output = {name: fields.pop(name) for name in OUTPUT_FIELDS if name in fields}
        update = ExecutionUpdate(
            job_id=ctx.job_id,
            execution_number=ctx.execution_number,
            worker_id=self.info.id,
            **fields,
        )
        update.__dict__.update(output)  # as `model_construct` sets fields
        update.__pydantic_fields_set__.update(output)
        return update

    async def _heartbeat_loop(self, outbox: Outbox) -> None:
        interval = max(self.lease_s / 3, 0.5)
        while True:
            await asyncio.sleep(interval)
            for ctx in list(self._held.values()):
                if not ctx.settled:
                    self._report(ctx, outbox)

    async def _output_loop(self, outbox: Outbox) -> None:
        """Every OUTPUT_INTERVAL_S, send what running handlers wrote: one request for all of
        them. A job whose last report is not answered yet waits for the next round, so that a
        server slow to answer makes fewer and larger updates, not a queue of small ones."""
        while True:
            await asyncio.sleep(OUTPUT_INTERVAL_S)
            for ctx in list(self._held.values()):
                sending = ctx.reporting
                if ctx.settled or (sending is not None and not sending.done()):
                    continue
                if ctx.output.pending():
                    ctx.reporting = self._report(ctx, outbox)

    def _on_result(self, result: BatchResult) -> None:
        ctx = self._held.get((result.job_id, result.execution_number))
        if ctx is None or ctx.settled:
            return
        if not result.ok:
            code = result.error.code if result.error else "refused"
            log.warning("job %s #%d: update refused (%s)", ctx.job_id, ctx.execution_number, code)
            ctx.lease_lost = True
            self._cancel(ctx)
        elif result.cancel_requested:
            self._cancel(ctx)

    def _cancel(self, ctx: JobContext) -> None:
        ctx.request_cancel()
        ctx.cancelled_event.set()
        key = (ctx.job_id, ctx.execution_number)
        task = self._tasks.get(key)
        if task is not None:
            task.cancel()
        over = self._overs.get(key)
        if over is not None:
            over.end_in(asyncio.get_running_loop(), self.kill_grace_s)

    async def _shutdown(
        self, claimer: asyncio.Task[None], runners: list[asyncio.Task[None]], outbox: Outbox
    ) -> int:
        claimer.cancel()
        await asyncio.gather(claimer, return_exceptions=True)
        if self._kill_poll is not None:
            self._kill_poll.cancel()
            await asyncio.gather(self._kill_poll, return_exceptions=True)
        # Hand unstarted jobs back at once, so another worker can take them.
        while not self._ready.empty():
            ctx = self._ready.get_nowait()
            self._hand_back(ctx, outbox)
        log.info("stopping: waiting up to %.0f s for running jobs", self.grace_s)
        try:
            async with asyncio.timeout(self.grace_s):
                while self._busy() and not self._hard_stop.is_set():
                    self._room.clear()
                    await self._room.wait()
        except TimeoutError:
            log.warning("grace period over: handing back the jobs still running")
        for ctx in list(self._held.values()):
            self._hand_back(ctx, outbox)
        for r in runners:
            r.cancel()
        await asyncio.gather(*runners, return_exceptions=True)
        await outbox.flush(timeout_s=10.0)
        return 130 if self._hard_stop.is_set() else 0

    def _busy(self) -> bool:
        return any(not ctx.lease_lost for ctx in self._held.values())

    def _hand_back(self, ctx: JobContext, outbox: Outbox) -> None:
        if ctx.settled:
            return
        ctx.lease_lost = True  # nothing it reports later is ours to send
        self._mark_settled(ctx)
        self._cancel(ctx)
        key = (ctx.job_id, ctx.execution_number)
        handed = self._report(ctx, outbox, status="queued")  # with the lines it wrote so far
        handed.add_done_callback(lambda _f: self._release_slot(key))


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed (the server's uvicorn[standard] brings it): each request a
    worker makes costs less of its loop than asyncio's own."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - a worker installed without it
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class _Over:
    """When `_execute` stops waiting for a handler: at its end, or `kill_grace_s` after the
    first kill order (`end_in`), whichever comes first."""

    def __init__(self, future: asyncio.Future[None]) -> None:
        self.future = future
        self._timer: asyncio.TimerHandle | None = None

    def end(self, _done: object = None) -> None:
        if not self.future.done():
            self.future.set_result(None)

    def end_in(self, loop: asyncio.AbstractEventLoop, seconds: float) -> None:
        if self._timer is None:
            self._timer = loop.call_later(seconds, self.end)

    def stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


async def _call_async(handler: Callable[[JobContext], Awaitable[Any]], ctx: JobContext) -> Any:
    current_output.set(ctx.output)  # this task's own context: `logging` lands in its job
    try:
        return await handler(ctx)
    finally:
        ctx.output.handler_returned()


def _call(handler: Callable[[JobContext], Any], ctx: JobContext) -> Any:
    try:
        return handler(ctx)
    finally:
        ctx.output.handler_returned()
