"""`AsyncClient`: the asyncio SDK, method for method the same as `Client`."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from jobyard.client import calls
from jobyard.client.config import resolve_key, resolve_url
from jobyard.client.errors import ConnectionFailed, error_from
from jobyard.client.http11_transport import Http11Transport
from jobyard.client.models import (
    ApiKey,
    BatchResult,
    ClaimAnswer,
    ClaimedExecution,
    CreatedKey,
    CreatedTenant,
    Execution,
    ExecutionRef,
    ExecutionUpdate,
    FileUrl,
    Job,
    JobSpec,
    LogEntry,
    LogPage,
    Me,
    Page,
    PrimaryError,
    RecordError,
    RotatedKey,
    SigningKeyRotation,
    Tenant,
    UpdateResult,
    WorkerInfo,
)
from jobyard.client.response_stream import drop_stream
from jobyard.client.retrying import Retries
from jobyard.client.sse import EventParser
from jobyard.client.sync_client import _json, default_headers

T = TypeVar("T")


def _default_transport() -> httpx.AsyncBaseTransport | None:
    """The SDK's own HTTP/1.1 transport, or None (httpx's, which honours them) when the
    environment names a proxy for plain HTTP."""
    proxies = urllib.request.getproxies()
    if proxies.get("http") or proxies.get("all"):
        return None
    return Http11Transport()


class AsyncClient:
    """A Jobyard client for asyncio. Configuration as for `Client`."""

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        retries: Retries | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = resolve_url(url)
        self.retries = retries or Retries()
        self._http = httpx.AsyncClient(
            base_url=self.url,
            headers=default_headers(resolve_key(api_key)),
            timeout=timeout,
            transport=transport if transport is not None else _default_transport(),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _run(self, call: calls.Call[T], timeout: float | None = None) -> T:  # noqa: ASYNC109  # a per-request HTTP timeout, passed to httpx
        attempt = 0
        while True:
            response: httpx.Response | None = None
            try:
                response = drop_stream(
                    await self._http.request(
                        call.method,
                        call.path,
                        content=call.content(),
                        params=call.params,
                        headers=call.all_headers(),
                        timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
                    )
                )
            except httpx.TransportError as exc:
                if not self.retries.should_retry(attempt, None):
                    raise ConnectionFailed(f"cannot reach {self.url}: {exc}") from exc
            if response is not None:
                if response.is_success:
                    return call.parse(response)
                if not self.retries.should_retry(attempt, response):
                    raise error_from(response.status_code, _json(response))
            await asyncio.sleep(self.retries.delay_s(attempt, response))
            attempt += 1

    # jobs ----------------------------------------------------------------------------------
    async def create_job(self, job: JobSpec | Mapping[str, Any] | str, **fields: Any) -> Job:
        spec = {"type": job, **fields} if isinstance(job, str) else job
        return await self._run(calls.create_job(spec))

    async def create_jobs(self, jobs: Sequence[JobSpec | Mapping[str, Any]]) -> list[Job]:
        return await self._run(calls.create_jobs(jobs))

    async def create_job_ids(self, jobs: Sequence[JobSpec | Mapping[str, Any]]) -> list[str]:
        """Like `create_jobs`, answering only the new jobs' ids: cheaper for both sides."""
        return await self._run(calls.create_job_ids(jobs))

    async def get_job(self, job_id: str) -> Job:
        return await self._run(calls.get_job(job_id))

    async def list_jobs(self, **filters: Any) -> Page[Job]:
        return await self._run(calls.list_jobs(filters))

    async def iter_jobs(self, **filters: Any) -> AsyncIterator[Job]:
        while True:
            page = await self.list_jobs(**filters)
            for job in page.items:
                yield job
            if page.next_cursor is None:
                return
            filters["cursor"] = page.next_cursor

    async def cancel_job(self, job_id: str, reason: str | None = None, force: bool = False) -> Job:
        return await self._run(calls.cancel_job(job_id, reason, force))

    async def retry_job(self, job_id: str) -> Job:
        return await self._run(calls.retry_job(job_id))

    async def share_job(self, job_id: str, collaborators: Sequence[str]) -> Job:
        """Replace the key subjects that may cancel and retry the job besides its owner."""
        return await self._run(calls.share_job(job_id, collaborators))

    async def whoami(self) -> Me:
        """The calling key: tenant, role, and the subject its jobs are owned by."""
        return await self._run(calls.whoami())

    async def list_executions(self, job_id: str) -> list[Execution]:
        return await self._run(calls.list_executions(job_id))

    # workers -------------------------------------------------------------------------------
    async def claim(
        self,
        queues: Sequence[str],
        *,
        types: Sequence[str] | None = None,
        max: int = 1,
        lease_s: int = 30,
        wait_s: float = 0,
        worker: WorkerInfo | None = None,
    ) -> list[ClaimedExecution]:
        call = calls.claim(
            queues, types=types, max=max, lease_s=lease_s, wait_s=wait_s, worker=worker
        )
        return await self._run(call, timeout=wait_s + 30)

    async def claim_answer(
        self,
        queues: Sequence[str],
        *,
        types: Sequence[str] | None = None,
        max: int = 1,
        lease_s: int = 30,
        wait_s: float = 0,
        worker: WorkerInfo | None = None,
    ) -> ClaimAnswer:
        """As `claim`, with the kill orders for `worker` too (`max` 0: wait for those only)."""
        call = calls.claim_answer(
            queues, types=types, max=max, lease_s=lease_s, wait_s=wait_s, worker=worker
        )
        return await self._run(call, timeout=wait_s + 30)

    async def kill_orders(
        self, worker_id: str, queues: Sequence[str], wait_s: float = 0
    ) -> list[ExecutionRef]:
        """Executions `worker_id` holds whose jobs have a kill order; with `wait_s`, waits for
        a new one."""
        call = calls.kill_orders(worker_id, queues, wait_s)
        return await self._run(call, timeout=wait_s + 30)

    async def update_execution(self, update: ExecutionUpdate) -> UpdateResult:
        return await self._run(calls.update_execution(update))

    async def update_executions(
        self, updates: Sequence[ExecutionUpdate], *, minimal: bool = False
    ) -> list[BatchResult]:
        """Many updates in one request, each judged on its own; with `minimal`, the results of
        those that applied come without their execution."""
        return await self._run(calls.update_executions(updates, minimal=minimal))

    # following a job --------------------------------------------------------------------------
    async def append_logs(
        self,
        job_id: str,
        execution_number: int,
        entries: Sequence[Mapping[str, Any]],
        worker_id: str | None = None,
    ) -> int:
        """Append `{"source", "data", "ts"?}` entries; answers the last seq given."""
        return await self._run(calls.append_logs(job_id, execution_number, entries, worker_id))

    async def read_logs(
        self,
        job_id: str,
        *,
        after: int | None = None,
        limit: int | None = None,
        execution: int | None = None,
    ) -> LogPage:
        """Entries after `after`; without it, the newest `limit` (default 5,000)."""
        return await self._run(
            calls.read_logs(job_id, after=after, limit=limit, execution=execution)
        )

    async def iter_logs(self, job_id: str, *, after: int = 0) -> AsyncIterator[LogEntry]:
        """Every entry written so far, oldest first, a page at a time."""
        while True:
            page = await self.read_logs(job_id, after=after, limit=5000)
            for entry in page.entries:
                yield entry
            if len(page.entries) < 5000:
                return
            after = page.entries[-1].seq

    async def tail_logs(self, job_id: str, *, after: int | None = None) -> AsyncIterator[LogEntry]:
        """As `Client.tail_logs`: entries as they come until the job ends, resumed on a drop."""
        last = after
        failures = 0
        while True:
            headers = {"Last-Event-ID": str(last)} if last is not None else {}
            path = f"/v1/jobs/{calls.segment(job_id)}/logs/stream"
            try:
                async with self._http.stream("GET", path, headers=headers, timeout=None) as r:
                    if not r.is_success:
                        await r.aread()
                        raise error_from(r.status_code, _json(r))
                    parser = EventParser()
                    async for line in r.aiter_lines():
                        event = parser.feed(line)
                        if event is None:
                            continue
                        if event.event == "end":
                            return
                        entry = LogEntry.model_validate_json(event.data)
                        last = entry.seq
                        failures = 0
                        yield entry
                # closed with no `end`: the server is stopping; resume, on this or another node
                raise httpx.RemoteProtocolError("the log stream closed before the job ended")
            except httpx.TransportError as exc:
                failures += 1
                if not self.retries.should_retry(failures - 1, None):
                    raise ConnectionFailed(f"lost the log stream of {job_id}: {exc}") from exc
                await asyncio.sleep(self.retries.delay_s(failures - 1, None))

    async def append_record_errors(
        self,
        job_id: str,
        execution_number: int,
        errors: Sequence[Mapping[str, Any]],
        worker_id: str | None = None,
    ) -> int:
        return await self._run(
            calls.append_record_errors(job_id, execution_number, errors, worker_id)
        )

    async def iter_record_errors(
        self, job_id: str, *, resolved: bool | None = None
    ) -> AsyncIterator[RecordError]:
        cursor: str | None = None
        while True:
            page = await self._run(
                calls.list_record_errors(job_id, cursor=cursor, limit=1000, resolved=resolved)
            )
            for item in page.items:
                yield item
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def resolve_record_errors(self, job_id: str, ids: Sequence[str] | None = None) -> int:
        """Resolve the errors named, or all of the job's."""
        return await self._run(calls.resolve_record_errors(job_id, ids))

    async def record_errors_file_url(
        self, job_id: str, fmt: str = "ndjson", expires_in_s: int | None = None
    ) -> FileUrl:
        return await self._run(calls.record_errors_file_url(job_id, fmt, expires_in_s))

    async def primary_error(self, job_id: str) -> PrimaryError | None:
        """The job's primary error, or None."""
        return await self._run(calls.primary_error(job_id))

    # keys and tenants ----------------------------------------------------------------------
    async def create_key(
        self,
        name: str,
        role: str,
        *,
        queues: Sequence[str] | None = None,
        expires_at: datetime | None = None,
        key_type: str = "api",
        things: Sequence[str] | None = None,
    ) -> CreatedKey:
        """A new key; `key_type` "aws-sigv4" makes an access key id and secret. The secret
        (`key` or `secret_access_key`) is in this answer only."""
        return await self._run(calls.create_key(name, role, queues, expires_at, key_type, things))

    async def rotate_key(
        self,
        key_id: str,
        *,
        revoke_old_in_s: int | None = None,
        expires_at: datetime | None = None,
    ) -> RotatedKey:
        """A new key in the place of `key_id` (same type, role, queues, things and subject);
        the old one stays live unless `revoke_old_in_s` says when it ends (0: now)."""
        return await self._run(calls.rotate_key(key_id, revoke_old_in_s, expires_at))

    async def rotate_signing_key(self) -> SigningKeyRotation:
        """Void every signed URL given out so far; new ones are signed with a new key."""
        return await self._run(calls.rotate_signing_key())

    async def list_keys(self) -> list[ApiKey]:
        return await self._run(calls.list_keys())

    async def revoke_key(self, key_id: str) -> ApiKey:
        return await self._run(calls.revoke_key(key_id))

    async def create_tenant(self, name: str) -> CreatedTenant:
        return await self._run(calls.create_tenant(name))

    async def list_tenants(self) -> list[Tenant]:
        return await self._run(calls.list_tenants())
