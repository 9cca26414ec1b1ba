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
                response = drop_stream(
                    self._http.request(
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
            time.sleep(self.retries.delay_s(attempt, response))
            attempt += 1

    # jobs ----------------------------------------------------------------------------------
    def create_job(self, job: JobSpec | Mapping[str, Any] | str, **fields: Any) -> Job:
        """`create_job("email", params={...})` or `create_job(JobSpec(...))`."""
        spec = {"type": job, **fields} if isinstance(job, str) else job
        return self._run(calls.create_job(spec))

    def create_jobs(self, jobs: Sequence[JobSpec | Mapping[str, Any]]) -> list[Job]:
        return self._run(calls.create_jobs(jobs))

    def create_job_ids(self, jobs: Sequence[JobSpec | Mapping[str, Any]]) -> list[str]:
        """Like `create_jobs`, answering only the new jobs' ids: cheaper for both sides."""
        return self._run(calls.create_job_ids(jobs))

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

    def share_job(self, job_id: str, collaborators: Sequence[str]) -> Job:
        """Replace the key subjects that may cancel and retry the job besides its owner."""
        return self._run(calls.share_job(job_id, collaborators))

    def whoami(self) -> Me:
        """The calling key: tenant, role, and the subject its jobs are owned by."""
        return self._run(calls.whoami())

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

    def update_executions(
        self, updates: Sequence[ExecutionUpdate], *, minimal: bool = False
    ) -> list[BatchResult]:
        """Many updates in one request, each judged on its own; with `minimal`, the results of
        those that applied come without their execution."""
        return self._run(calls.update_executions(updates, minimal=minimal))

    # following a job --------------------------------------------------------------------------
    def append_logs(
        self,
        job_id: str,
        execution_number: int,
        entries: Sequence[Mapping[str, Any]],
        worker_id: str | None = None,
    ) -> int:
        """Append `{"source", "data", "ts"?}` entries; answers the last seq given."""
        return self._run(calls.append_logs(job_id, execution_number, entries, worker_id))

    def read_logs(
        self,
        job_id: str,
        *,
        after: int | None = None,
        limit: int | None = None,
        execution: int | None = None,
    ) -> LogPage:
        """Entries after `after`; without it, the newest `limit` (default 5,000)."""
        return self._run(calls.read_logs(job_id, after=after, limit=limit, execution=execution))

    def iter_logs(self, job_id: str, *, after: int = 0) -> Iterator[LogEntry]:
        """Every entry written so far, oldest first, a page at a time."""
        while True:
            page = self.read_logs(job_id, after=after, limit=5000)
            yield from page.entries
            if len(page.entries) < 5000:
                return
            after = page.entries[-1].seq

    def tail_logs(self, job_id: str, *, after: int | None = None) -> Iterator[LogEntry]:
        """Entries as they are written, until the job ends (Server-Sent Events). A dropped
        connection is resumed where it stopped, so nothing is missed or repeated."""
        last = after
        failures = 0
        while True:
            headers = {"Last-Event-ID": str(last)} if last is not None else {}
            try:
                with self._http.stream(
                    "GET",
                    f"/v1/jobs/{calls.segment(job_id)}/logs/stream",
                    headers=headers,
                    timeout=None,
                ) as r:
                    if not r.is_success:
                        r.read()
                        raise error_from(r.status_code, _json(r))
                    parser = EventParser()
                    for line in r.iter_lines():
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
                time.sleep(self.retries.delay_s(failures - 1, None))

    def append_record_errors(
        self,
        job_id: str,
        execution_number: int,
        errors: Sequence[Mapping[str, Any]],
        worker_id: str | None = None,
    ) -> int:
        return self._run(calls.append_record_errors(job_id, execution_number, errors, worker_id))

    def iter_record_errors(
        self, job_id: str, *, resolved: bool | None = None
    ) -> Iterator[RecordError]:
        cursor: str | None = None
        while True:
            page = self._run(
                calls.list_record_errors(job_id, cursor=cursor, limit=1000, resolved=resolved)
            )
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def resolve_record_errors(self, job_id: str, ids: Sequence[str] | None = None) -> int:
        """Resolve the errors named, or all of the job's."""
        return self._run(calls.resolve_record_errors(job_id, ids))

    def record_errors_file_url(
        self, job_id: str, fmt: str = "ndjson", expires_in_s: int | None = None
    ) -> FileUrl:
        return self._run(calls.record_errors_file_url(job_id, fmt, expires_in_s))

    def primary_error(self, job_id: str) -> PrimaryError | None:
        """The job's primary error, or None."""
        return self._run(calls.primary_error(job_id))

    # keys and tenants ----------------------------------------------------------------------
    def create_key(
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
        return self._run(calls.create_key(name, role, queues, expires_at, key_type, things))

    def rotate_key(
        self,
        key_id: str,
        *,
        revoke_old_in_s: int | None = None,
        expires_at: datetime | None = None,
    ) -> RotatedKey:
        """A new key in the place of `key_id` (same type, role, queues, things and subject);
        the old one stays live unless `revoke_old_in_s` says when it ends (0: now)."""
        return self._run(calls.rotate_key(key_id, revoke_old_in_s, expires_at))

    def rotate_signing_key(self) -> SigningKeyRotation:
        """Void every signed URL given out so far; new ones are signed with a new key."""
        return self._run(calls.rotate_signing_key())

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
