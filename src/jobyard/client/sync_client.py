"""`Client`: the blocking SDK."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from jobyard._version import __version__
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

T = TypeVar("T")


def default_headers(api_key: str | None) -> dict[str, str]:
    headers = {"User-Agent": f"jobyard-python/{__version__}"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


class Client:
    """A Jobyard client. `url` and `api_key` default to JOBYARD_URL and JOBYARD_API_KEY, then to
    the local server's admin key file."""

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        retries: Retries | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = resolve_url(url)
        self.retries = retries or Retries()
        self._http = httpx.Client(
            base_url=self.url,
            headers=default_headers(resolve_key(api_key)),
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _run(self, call: calls.Call[T], timeout: float | None = None) -> T:
        attempt = 0
        while True:
            response: httpx.Response | None = None
            try:
                response = self._http.request(
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
            time.sleep(self.retries.delay_s(attempt, response))
            attempt += 1

    # jobs ----------------------------------------------------------------------------------
    def create_job(self, job: JobSpec | Mapping[str, Any] | str, **fields: Any) -> Job:
        """`create_job("email", params={...})` or `create_job(JobSpec(...))`."""
        spec = {"type": job, **fields} if isinstance(job, str) else job
        return self._run(calls.create_job(spec))

    def create_jobs(self, jobs: Sequence[JobSpec | Mapping[str, Any]]) -> list[Job]:
        return self._run(calls.create_jobs(jobs))

    def get_job(self, job_id: str) -> Job:
        return self._run(calls.get_job(job_id))

    def list_jobs(self, **filters: Any) -> Page[Job]:
        return self._run(calls.list_jobs(filters))

    def iter_jobs(self, **filters: Any) -> Iterator[Job]:
        """Every matching job, newest first, following cursors page by page."""
        while True:
            page = self.list_jobs(**filters)
            yield from page.items
            if page.next_cursor is None:
                return
            filters["cursor"] = page.next_cursor

    def cancel_job(self, job_id: str, reason: str | None = None, force: bool = False) -> Job:
        return self._run(calls.cancel_job(job_id, reason, force))

    def retry_job(self, job_id: str) -> Job:
        return self._run(calls.retry_job(job_id))

    def list_executions(self, job_id: str) -> list[Execution]:
        return self._run(calls.list_executions(job_id))

    # workers -------------------------------------------------------------------------------
    def claim(
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
        return self._run(call, timeout=wait_s + 30)

    def update_execution(self, update: ExecutionUpdate) -> UpdateResult:
        return self._run(calls.update_execution(update))

    def update_executions(self, updates: Sequence[ExecutionUpdate]) -> list[BatchResult]:
        return self._run(calls.update_executions(updates))

    # keys and tenants ----------------------------------------------------------------------
    def create_key(
        self,
        name: str,
        role: str,
        *,
        queues: Sequence[str] | None = None,
        expires_at: datetime | None = None,
    ) -> CreatedKey:
        return self._run(calls.create_key(name, role, queues, expires_at))

    def list_keys(self) -> list[ApiKey]:
        return self._run(calls.list_keys())

    def revoke_key(self, key_id: str) -> ApiKey:
        return self._run(calls.revoke_key(key_id))

    def create_tenant(self, name: str) -> CreatedTenant:
        return self._run(calls.create_tenant(name))

    def list_tenants(self) -> list[Tenant]:
        return self._run(calls.list_tenants())


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
