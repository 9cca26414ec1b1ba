"""`AsyncClient`: the asyncio SDK, method for method the same as `Client`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from jobyard.client import calls
from jobyard.client.config import resolve_key, resolve_url
from jobyard.client.errors import ConnectionFailed, error_from
from jobyard.client.models import (
    ApiKey,
    BatchResult,
    ClaimedExecution,
    CreatedKey,
    CreatedTenant,
    Execution,
    ExecutionUpdate,
    Job,
    JobSpec,
    Page,
    Tenant,
    UpdateResult,
    WorkerInfo,
)
from jobyard.client.retrying import Retries
from jobyard.client.sync_client import _json, default_headers

T = TypeVar("T")


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
            transport=transport,
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
                response = await self._http.request(
                    call.method,
                    call.path,
                    json=call.json,
                    params=call.params,
                    headers=call.headers,
                    timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
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

    async def update_execution(self, update: ExecutionUpdate) -> UpdateResult:
        return await self._run(calls.update_execution(update))

    async def update_executions(self, updates: Sequence[ExecutionUpdate]) -> list[BatchResult]:
        return await self._run(calls.update_executions(updates))

    # keys and tenants ----------------------------------------------------------------------
    async def create_key(
        self,
        name: str,
        role: str,
        *,
        queues: Sequence[str] | None = None,
        expires_at: datetime | None = None,
    ) -> CreatedKey:
        return await self._run(calls.create_key(name, role, queues, expires_at))

    async def list_keys(self) -> list[ApiKey]:
        return await self._run(calls.list_keys())

    async def revoke_key(self, key_id: str) -> ApiKey:
        return await self._run(calls.revoke_key(key_id))

    async def create_tenant(self, name: str) -> CreatedTenant:
        return await self._run(calls.create_tenant(name))

    async def list_tenants(self) -> list[Tenant]:
        return await self._run(calls.list_tenants())
