"""Schemathesis hooks for test_schemathesis.py, loaded by the `st` process (SCHEMATHESIS_HOOKS).

They change no check. They tell the generator what a schema cannot say, and keep the run
inside its time box and its own credentials:

- `cursor` is the format of the opaque cursors the server hands out (`next_cursor`): valid ones
  are drawn as the server makes them.
- Rules across fields, which a JSON schema cannot state, are kept in the requests sent: the
  `Idempotency-Key` header, when sent with a body field `idempotency_key`, repeats it (the API
  refuses the two when they differ); `parent_id` and `collaborators` name only what exists, so
  drawn ones are dropped (the generator cannot know the ids of this tenant's jobs and keys).
- A long-poll (`wait_s` up to 30 s on claims and kill orders) waits at most `WAIT_CAP_S`: an
  allowed wait stays an allowed wait, only shorter. A `wait_s` the schema forbids is sent as
  drawn, so its refusal is still tested.
- The run never revokes the key it authenticates with (`JOBYARD_FUZZ_KEY_ID`), which would turn
  the rest of the run into 401s. Revoking any other key is tested as drawn.

Schemathesis checks each request against the schema again after these hooks, so a request they
make valid is judged as valid.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import MutableMapping
from typing import Any

import schemathesis
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.hooks import HookContext

from jobyard.domain.filters import encode_cursor

WAIT_CAP_S = 0.2
HEADER_VALUE = re.compile(r"[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?")
OWN_KEY_ID = os.environ.get("JOBYARD_FUZZ_KEY_ID", "")

schemathesis.openapi.format("cursor", st.uuids().map(lambda u: encode_cursor(str(u))))


def _shorter_wait(values: Any) -> None:
    if not isinstance(values, MutableMapping):
        return
    wait = values.get("wait_s")
    if isinstance(wait, int | float) and not isinstance(wait, bool) and 0 <= wait <= 30:
        values["wait_s"] = min(wait, WAIT_CAP_S)
    elif isinstance(wait, str):
        try:
            number = float(wait)
        except ValueError:
            return
        if 0 <= number <= 30:
            values["wait_s"] = str(min(number, WAIT_CAP_S))


def _no_references(job: Any) -> None:
    if not isinstance(job, dict):
        return
    if isinstance(job.get("parent_id"), str):
        job["parent_id"] = None
    if isinstance(job.get("collaborators"), list):
        job["collaborators"] = []


def _same_idempotency_key(case: Case[Any]) -> None:
    headers = case.headers
    body = case.body
    if not isinstance(headers, MutableMapping) or not isinstance(body, dict):
        return
    in_body = body.get("idempotency_key")
    if not isinstance(in_body, str) or not in_body:
        return
    for name in list(headers):
        if name.lower() == "idempotency-key":
            if HEADER_VALUE.fullmatch(in_body):
                headers[name] = in_body
            else:  # text no header can carry: the body says it alone
                del headers[name]


@schemathesis.hook
def before_call(context: HookContext, case: Case[Any], kwargs: dict[str, Any]) -> None:
    label = f"{case.method.upper()} {case.operation.path}"
    if label == "POST /v1/jobs":
        _no_references(case.body)
        _same_idempotency_key(case)
    elif label == "POST /v1/jobs/batch" and isinstance(case.body, dict):
        jobs = case.body.get("jobs")
        for job in jobs if isinstance(jobs, list) else []:
            _no_references(job)
    elif label == "PUT /v1/jobs/{job_id}/collaborators":
        _no_references(case.body)
    elif label == "POST /v1/claims":
        _shorter_wait(case.body)
    elif label == "GET /v1/workers/{worker_id}/kill-orders":
        _shorter_wait(case.query)
    elif label == "DELETE /v1/keys/{key_id}" and OWN_KEY_ID:
        params = case.path_parameters
        if isinstance(params, MutableMapping) and params.get("key_id") == OWN_KEY_ID:
            params["key_id"] = str(uuid.uuid4())  # a key that does not exist: a 404
