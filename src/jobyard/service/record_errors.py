"""Record errors: appended by workers, paged and resolved by people, downloaded as one file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from jobyard.domain.entities import NewRecordError, RecordError
from jobyard.domain.errors import InvalidInput, InvalidQuery, NotFound, PayloadTooLarge
from jobyard.domain.filters import decode_cursor
from jobyard.domain.ids import is_id
from jobyard.service.auth import Principal
from jobyard.service.ownership import may_change
from jobyard.service.permissions import Op
from jobyard.service.signed_urls import SignedUrl, UrlSigner
from jobyard.store.protocol import Store

MAX_APPEND = 5000
MAX_PAGE = 1000
PAGE = 1000
FORMATS = ("ndjson", "csv")


def file_path(tenant_id: str, job_id: str, fmt: str) -> str:
    return f"/v1/files/{tenant_id}/jobs/{job_id}/record-errors.{fmt}"


class RecordErrorService:
    def __init__(self, store: Store, signer: UrlSigner) -> None:
        self.store = store
        self.signer = signer

    async def append(
        self,
        principal: Principal,
        job_id: str,
        execution_number: int,
        errors: Sequence[NewRecordError],
        worker_id: str | None = None,
    ) -> int:
        principal.require(Op.EXECUTION_UPDATE)
        if len(errors) > MAX_APPEND:
            raise PayloadTooLarge(f"at most {MAX_APPEND} errors in one request", field="errors")
        n = (
            await self.store.record_error_append(
                principal.tenant_id, job_id, execution_number, errors, worker_id, principal.holder
            )
            if is_id(job_id)
            else None
        )
        if n is None:
            raise NotFound("execution not found", job_id=job_id)
        return n

    async def _job(self, principal: Principal, job_id: str, op: Op = Op.JOB_READ) -> None:
        principal.require(op)
        if not is_id(job_id) or await self.store.job_get(principal.tenant_id, job_id) is None:
            raise NotFound("job not found", job_id=job_id)

    async def page(
        self,
        principal: Principal,
        job_id: str,
        *,
        cursor: str | None,
        limit: int,
        resolved: bool | None,
    ) -> list[RecordError]:
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidQuery(f"limit must be between 1 and {MAX_PAGE}", field="limit")
        await self._job(principal, job_id)
        after = decode_cursor(cursor) if cursor else None
        return await self.store.record_error_list(
            principal.tenant_id, job_id, after_id=after, limit=limit, resolved=resolved
        )

    async def resolve(self, principal: Principal, job_id: str, ids: Sequence[str] | None) -> int:
        """Resolve the errors named, or all of the job's when `ids` is None."""
        await may_change(self.store, principal, job_id, Op.RECORD_ERROR_RESOLVE)
        if ids is not None and not all(is_id(i) for i in ids):
            raise InvalidInput("ids must be record error ids", field="ids")
        return await self.store.record_error_resolve(principal.tenant_id, job_id, ids)

    async def file_url(
        self, principal: Principal, job_id: str, fmt: str, ttl_s: int | None
    ) -> SignedUrl:
        await self._job(principal, job_id)
        if fmt not in FORMATS:
            raise InvalidInput("format must be ndjson or csv", field="format")
        return await self.signer.sign(
            principal.tenant_id, file_path(principal.tenant_id, job_id, fmt), ttl_s
        )

    async def download(
        self,
        tenant_id: str,
        job_id: str,
        fmt: str,
        query: dict[str, str],
    ) -> AsyncIterator[RecordError]:
        """Every error of the job, a page at a time, for a signed URL (no API key)."""
        await self.check_signature(tenant_id, job_id, fmt, "GET", query)
        return self._all(tenant_id, job_id)

    async def check_signature(
        self, tenant_id: str, job_id: str, fmt: str, method: str, query: dict[str, str]
    ) -> None:
        """403 unless the URL was signed for this method, path and expiry (404 for no file)."""
        if not (is_id(tenant_id) and is_id(job_id)) or fmt not in FORMATS:
            raise NotFound("no such file")
        await self.signer.verify(
            tenant_id,
            method,
            file_path(tenant_id, job_id, fmt),
            query.get("expires", ""),
            query.get("kid", ""),
            query.get("sig", ""),
        )

    async def _all(self, tenant_id: str, job_id: str) -> AsyncIterator[RecordError]:
        after: str | None = None
        while True:
            page = await self.store.record_error_list(tenant_id, job_id, after_id=after, limit=PAGE)
            for e in page:
                yield e
            if len(page) < PAGE:
                return
            after = page[-1].id
