"""Every API operation as data: method, path, body, and how to read the answer.

`Client` and `AsyncClient` only differ in how they send a `Call`, so each operation is written
once here and the two clients stay in step.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
import orjson
from pydantic import BaseModel

from jobyard.client import json_text
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

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    json: Any = None
    params: Mapping[str, str | list[str]] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def content(self) -> bytes | None:
        """The body, `json` written as JSON text (`json_text`); None without one."""
        return None if self.json is None else json_text.dumps(self.json)

    def all_headers(self) -> Mapping[str, str]:
        return self.headers if self.json is None else {**json_text.JSON_TYPE, **self.headers}


def _model(cls: type[M]) -> Callable[[httpx.Response], M]:
    return lambda r: cls.model_validate_json(r.content)


def _items(cls: type[M], key: str = "items") -> Callable[[httpx.Response], list[M]]:
    def parse(r: httpx.Response) -> list[M]:
        return [cls.model_validate(item) for item in orjson.loads(r.content)[key]]

    return parse


def segment(value: str | int) -> str:
    """A path segment, escaped so an id can never reach another route."""
    return quote(str(value), safe="")


def _spec(job: JobSpec | Mapping[str, Any]) -> JobSpec:
    return job if isinstance(job, JobSpec) else JobSpec.model_validate(job)


def create_job(job: JobSpec | Mapping[str, Any]) -> Call[Job]:
    spec = _spec(job)
    # A key of our own makes a retried create safe: the server answers the same job again.
    key = spec.idempotency_key or str(uuid.uuid4())
    return Call("POST", "/v1/jobs", _model(Job), json={**spec.body(), "idempotency_key": key})


def _batch_body(jobs: Sequence[JobSpec | Mapping[str, Any]]) -> dict[str, Any]:
    body = [_spec(j).body() for j in jobs]
    for j in body:
        j.setdefault("idempotency_key", str(uuid.uuid4()))
    return {"jobs": body}


def create_jobs(jobs: Sequence[JobSpec | Mapping[str, Any]]) -> Call[list[Job]]:
    return Call("POST", "/v1/jobs/batch", _items(Job, "jobs"), json=_batch_body(jobs))


def create_job_ids(jobs: Sequence[JobSpec | Mapping[str, Any]]) -> Call[list[str]]:
    """`create_jobs` answered with the new jobs' ids only (`Prefer: return=minimal`)."""

    def ids(r: httpx.Response) -> list[str]:
        return [str(j["id"]) for j in orjson.loads(r.content)["jobs"]]

    minimal = {"Prefer": "return=minimal"}
    return Call("POST", "/v1/jobs/batch", ids, json=_batch_body(jobs), headers=minimal)


def get_job(job_id: str) -> Call[Job]:
    return Call("GET", f"/v1/jobs/{segment(job_id)}", _model(Job))


def _filter_params(filters: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in filters.items():
        if value is None:
            continue
        if name == "labels":
            out.update({f"label.{k}": str(v) for k, v in value.items()})
        elif isinstance(value, list | tuple | set | frozenset):
            out[name] = ",".join(str(v) for v in value)
        elif isinstance(value, datetime):
            out[name] = value.isoformat()
        else:
            out[name] = str(value)
    return out


def list_jobs(filters: Mapping[str, Any]) -> Call[Page[Job]]:
    """`filters` are the query parameters of GET /v1/jobs; `labels` may be a dict."""
    return Call("GET", "/v1/jobs", _model(Page[Job]), params=_filter_params(filters))


def cancel_job(job_id: str, reason: str | None, force: bool) -> Call[Job]:
    body: dict[str, Any] = {"force": force}
    if reason is not None:
        body["reason"] = reason
    return Call("POST", f"/v1/jobs/{segment(job_id)}/cancel", _model(Job), json=body)


def retry_job(job_id: str) -> Call[Job]:
    return Call("POST", f"/v1/jobs/{segment(job_id)}/retry", _model(Job))


def share_job(job_id: str, collaborators: Sequence[str]) -> Call[Job]:
    return Call(
        "PUT",
        f"/v1/jobs/{segment(job_id)}/collaborators",
        _model(Job),
        json={"collaborators": list(collaborators)},
    )


def whoami() -> Call[Me]:
    return Call("GET", "/v1/me", _model(Me))


def list_executions(job_id: str) -> Call[list[Execution]]:
    return Call("GET", f"/v1/jobs/{segment(job_id)}/executions", _items(Execution))


def claim(
    queues: Sequence[str],
    *,
    types: Sequence[str] | None,
    max: int,
    lease_s: int,
    wait_s: float,
    worker: WorkerInfo | None,
) -> Call[list[ClaimedExecution]]:
    body: dict[str, Any] = {"queues": list(queues), "max": max, "lease_s": lease_s}
    if wait_s:
        body["wait_s"] = wait_s
    if types:
        body["types"] = list(types)
    if worker is not None:
        body["worker"] = worker.body()
    return Call("POST", "/v1/claims", _items(ClaimedExecution, "executions"), json=body)


def claim_answer(
    queues: Sequence[str],
    *,
    types: Sequence[str] | None,
    max: int,
    lease_s: int,
    wait_s: float,
    worker: WorkerInfo | None,
) -> Call[ClaimAnswer]:
    """The same request as `claim`, read whole (with the worker's kill orders)."""
    c = claim(queues, types=types, max=max, lease_s=lease_s, wait_s=wait_s, worker=worker)
    return Call("POST", "/v1/claims", _model(ClaimAnswer), json=c.json)


def kill_orders(worker_id: str, queues: Sequence[str], wait_s: float) -> Call[list[ExecutionRef]]:
    params: dict[str, str | list[str]] = {"queues": list(queues), "wait_s": str(wait_s)}
    path = f"/v1/workers/{segment(worker_id)}/kill-orders"
    return Call("GET", path, _items(ExecutionRef, "cancel_requested"), params=params)


def update_execution(update: ExecutionUpdate) -> Call[UpdateResult]:
    body = update.body()
    job_id, number = body.pop("job_id"), body.pop("execution_number")
    return Call(
        "PATCH",
        f"/v1/jobs/{segment(job_id)}/executions/{segment(number)}",
        _model(UpdateResult),
        json=body,
    )


def update_executions(
    updates: Sequence[ExecutionUpdate], *, minimal: bool = False
) -> Call[list[BatchResult]]:
    """With `minimal`, the results of updates that applied come without their execution
    (`Prefer: return=minimal`): less for the server to write and the client to read."""
    body = {"updates": [u.body() for u in updates]}
    headers = {"Prefer": "return=minimal"} if minimal else {}
    path = "/v1/executions/batch"
    return Call("POST", path, _items(BatchResult, "results"), json=body, headers=headers)


def _append(
    job_id: str,
    number: int,
    what: str,
    field: str,
    items: Sequence[Mapping[str, Any]],
    worker_id: str | None,
    answer: str,
) -> Call[int]:
    """A worker's batched append to one execution (log entries or record errors)."""
    body: dict[str, Any] = {field: list(items)}
    if worker_id is not None:
        body["worker_id"] = worker_id
    path = f"/v1/jobs/{segment(job_id)}/executions/{segment(number)}/{what}"
    return Call("POST", path, lambda r: int(r.json()[answer]), json=body)


def append_logs(
    job_id: str, number: int, entries: Sequence[Mapping[str, Any]], worker_id: str | None
) -> Call[int]:
    return _append(job_id, number, "logs", "entries", entries, worker_id, "last_seq")


def read_logs(
    job_id: str, *, after: int | None, limit: int | None, execution: int | None
) -> Call[LogPage]:
    params = {
        k: str(v)
        for k, v in (("after", after), ("limit", limit), ("execution", execution))
        if v is not None
    }
    return Call("GET", f"/v1/jobs/{segment(job_id)}/logs", _model(LogPage), params=params)


def append_record_errors(
    job_id: str, number: int, errors: Sequence[Mapping[str, Any]], worker_id: str | None
) -> Call[int]:
    return _append(job_id, number, "record-errors", "errors", errors, worker_id, "added")


def list_record_errors(
    job_id: str, *, cursor: str | None, limit: int, resolved: bool | None
) -> Call[Page[RecordError]]:
    params = {"limit": str(limit)}
    if cursor:
        params["cursor"] = cursor
    if resolved is not None:
        params["resolved"] = "true" if resolved else "false"
    path = f"/v1/jobs/{segment(job_id)}/record-errors"
    return Call("GET", path, _model(Page[RecordError]), params=params)


def resolve_record_errors(job_id: str, ids: Sequence[str] | None) -> Call[int]:
    body = {"ids": list(ids)} if ids is not None else None
    path = f"/v1/jobs/{segment(job_id)}/record-errors/resolve"
    return Call("POST", path, lambda r: int(r.json()["resolved"]), json=body)


def record_errors_file_url(job_id: str, fmt: str, expires_in_s: int | None) -> Call[FileUrl]:
    body: dict[str, Any] = {"format": fmt}
    if expires_in_s is not None:
        body["expires_in_s"] = expires_in_s
    path = f"/v1/jobs/{segment(job_id)}/record-errors/file-url"
    return Call("POST", path, _model(FileUrl), json=body)


def primary_error(job_id: str) -> Call[PrimaryError | None]:
    def parse(r: httpx.Response) -> PrimaryError | None:
        return None if r.status_code == 204 else PrimaryError.model_validate_json(r.content)

    return Call("GET", f"/v1/jobs/{segment(job_id)}/error", parse)


def create_key(
    name: str,
    role: str,
    queues: Sequence[str] | None,
    expires_at: datetime | None,
    key_type: str = "api",
    things: Sequence[str] | None = None,
) -> Call[CreatedKey]:
    body: dict[str, Any] = {"name": name, "role": role, "type": key_type}
    if queues is not None:
        body["queues"] = list(queues)
    if things is not None:
        body["things"] = list(things)
    if expires_at is not None:
        body["expires_at"] = expires_at.isoformat()
    return Call("POST", "/v1/keys", _model(CreatedKey), json=body)


def rotate_key(
    key_id: str, revoke_old_in_s: int | None, expires_at: datetime | None
) -> Call[RotatedKey]:
    body: dict[str, Any] = {}
    if revoke_old_in_s is not None:
        body["revoke_old_in_s"] = revoke_old_in_s
    if expires_at is not None:
        body["expires_at"] = expires_at.isoformat()
    return Call("POST", f"/v1/keys/{segment(key_id)}/rotate", _model(RotatedKey), json=body)


def rotate_signing_key() -> Call[SigningKeyRotation]:
    return Call("POST", "/v1/signing-keys/rotate", _model(SigningKeyRotation))


def list_keys() -> Call[list[ApiKey]]:
    return Call("GET", "/v1/keys", _items(ApiKey))


def revoke_key(key_id: str) -> Call[ApiKey]:
    return Call("DELETE", f"/v1/keys/{segment(key_id)}", _model(ApiKey))


def create_tenant(name: str) -> Call[CreatedTenant]:
    return Call("POST", "/v1/tenants", _model(CreatedTenant), json={"name": name})


def list_tenants() -> Call[list[Tenant]]:
    return Call("GET", "/v1/tenants", _items(Tenant))
