"""Bad input over real HTTP: every error is `{"error": {"code", "message"}}` with the fitting
status, validation errors name the field, and nothing a client can send yields a 500.

The server log is checked for tracebacks after every test (see the `tenant` fixture).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from tests.support.api import JSON, Tenant, claim_one, create_job, error_of, list_all

CLEAN_STATUSES = {200, 201, 202, 400, 401, 403, 404, 405, 409, 413, 415, 422}


def assert_clean(r: httpx.Response, what: object) -> None:
    """Any answer but a 5xx; an error has the documented shape."""
    assert r.status_code in CLEAN_STATUSES, (what, r.status_code, r.text)
    if r.status_code >= 400:
        error = r.json()["error"]
        assert isinstance(error["code"], str), (what, r.text)
        assert isinstance(error["message"], str), (what, r.text)


def raw_json(c: httpx.Client, method: str, url: str, body: bytes | str) -> httpx.Response:
    content = body.encode() if isinstance(body, str) else body
    return c.request(method, url, content=content, headers={"Content-Type": "application/json"})


# ---- the shape of refusals ----------------------------------------------------------------


def test_unknown_field_is_refused_by_name(client: httpx.Client) -> None:
    err = error_of(client.post("/v1/jobs", json={"type": "t", "colour": "red"}), 422)
    assert err["code"] == "invalid_input"
    assert err["field"] == "colour"
    assert "colour" in err["message"]
    assert list_all(client) == []


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/v1/claims", {"queues": ["q"], "worker": {"nickname": "x"}}, "worker.nickname"),
        ("/v1/jobs/batch", {"jobs": [{"type": "t", "extra": 1}]}, "jobs.0.extra"),
        ("/v1/jobs/batch", {"jobs": [], "dry_run": True}, "jobs"),
        ("/v1/keys", {"name": "k", "role": "viewer", "scopes": ["x"]}, "scopes"),
    ],
)
def test_unknown_fields_anywhere_are_refused(
    client: httpx.Client, url: str, body: JSON, field: str
) -> None:
    err = error_of(client.post(url, json=body), 422)
    assert field in {e["field"] for e in err["errors"]}


def test_unknown_field_in_an_update_is_refused(client: httpx.Client) -> None:
    create_job(client)
    ex = claim_one(client)
    r = client.patch(
        f"/v1/jobs/{ex['job_id']}/executions/1", json={"status": "succeeded", "progres": 5}
    )
    assert error_of(r, 422)["field"] == "progres"
    assert client.get(f"/v1/jobs/{ex['job_id']}").json()["status"] == "in_progress"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "type"),
        ({"type": ""}, "type"),
        ({"type": "t", "priority": "high"}, "priority"),
        ({"type": "t", "priority": 1.5}, "priority"),
        ({"type": "t", "priority": 10**30}, "priority"),
        ({"type": "t", "params": "x"}, "params"),
        ({"type": "t", "params": [1, 2]}, "params"),
        ({"type": "t", "labels": {"k": 1}}, "labels.k"),
        ({"type": "t", "labels": {"bad key!": "v"}}, "labels.bad key!.[key]"),
        ({"type": "t", "max_attempts": 0}, "max_attempts"),
        ({"type": "t", "max_attempts": -3}, "max_attempts"),
        ({"type": "t", "scheduled_at": "tomorrow"}, "scheduled_at"),
        ({"type": "t", "timeout_s": -1}, "timeout_s"),
        ({"type": "t", "queue": ["a"]}, "queue"),
        ({"type": {"nested": ["junk"]}}, "type"),
    ],
)
def test_wrong_types_and_values_name_the_field(
    client: httpx.Client, body: JSON, field: str
) -> None:
    err = error_of(client.post("/v1/jobs", json=body), 422)
    assert err["field"] == field
    assert err["message"].startswith(f"{field}: ")
    assert list_all(client) == []


@pytest.mark.parametrize(
    "body", ["{", '{"type": "t",}', "{'type': 't'}", '{"type": "t"} trailing', "\xff", "nul"]
)
def test_malformed_json_is_400(client: httpx.Client, body: str) -> None:
    err = error_of(raw_json(client, "POST", "/v1/jobs", body.encode("latin-1")), 400)
    assert err["code"] in {"invalid_json", "bad_request"}


def test_empty_or_non_object_body_is_refused(client: httpx.Client) -> None:
    for body in ("", "null", "[]", "17", '"text"', "true"):
        err = error_of(raw_json(client, "POST", "/v1/jobs", body), 422)
        assert err["field"], body
    assert list_all(client) == []


def test_wrong_content_type_is_refused(client: httpx.Client) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        r = client.post(
            "/v1/jobs", content=b'{"type": "t"}', headers={"Content-Type": content_type}
        )
        assert error_of(r, 422)["code"] == "invalid_input", content_type
    assert list_all(client) == []


def test_body_over_the_limit_is_413(client: httpx.Client) -> None:
    big = b'{"type": "t", "params": {"blob": "' + b"x" * (17 * 1024 * 1024) + b'"}}'
    r = raw_json(client, "POST", "/v1/jobs", big)
    assert error_of(r, 413)["code"] == "payload_too_large"

    def chunks() -> Any:  # no Content-Length: the limit holds while streaming too
        for i in range(0, len(big), 1024 * 1024):
            yield big[i : i + 1024 * 1024]

    r = client.post("/v1/jobs", content=chunks(), headers={"Content-Type": "application/json"})
    assert error_of(r, 413)["code"] == "payload_too_large"
    assert list_all(client) == []


def test_unknown_routes_and_methods_answer_json(client: httpx.Client) -> None:
    assert error_of(client.get("/v1/nothing"), 404)["code"] == "not_found"
    assert error_of(client.put("/v1/jobs"), 405)["code"] == "method_not_allowed"
    assert error_of(client.delete("/v1/jobs"), 405)["code"] == "method_not_allowed"


# ---- ids that name nothing ----------------------------------------------------------------


@pytest.mark.parametrize(
    "job_id",
    [
        "not-a-uuid",
        "5d0f2c8a-7b1e-4c3d-9a6f-0e8b4d2c1a97",
        "1",
        "%00",
        "..",
        "a" * 300,
        "'; drop table jobs",
    ],
)
def test_bad_or_unknown_job_ids_are_404(client: httpx.Client, job_id: str) -> None:
    for r in (
        client.get(f"/v1/jobs/{job_id}"),
        client.get(f"/v1/jobs/{job_id}/executions"),
        client.post(f"/v1/jobs/{job_id}/cancel"),
        client.post(f"/v1/jobs/{job_id}/retry"),
        client.patch(f"/v1/jobs/{job_id}/executions/1", json={}),
        client.delete(f"/v1/keys/{job_id}"),
    ):
        assert error_of(r, 404)["code"] == "not_found", r.request.url


@pytest.mark.parametrize("number", ["0", "-1", "abc", "1.5", str(2**31), str(10**30)])
def test_bad_execution_numbers_are_404(client: httpx.Client, number: str) -> None:
    job = create_job(client)
    r = client.patch(f"/v1/jobs/{job['id']}/executions/{number}", json={})
    assert error_of(r, 404)["code"] == "not_found"


# ---- values the databases could not keep -------------------------------------------------


def deep(levels: int) -> JSON:
    value: JSON = {}
    for _ in range(levels):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"params": {"n": 2**64}}, "params"),
        ({"params": {"n": -(2**63) - 1}}, "params"),
        ({"params": deep(40)}, "params"),
        ({"params": {"s": "a\x00b"}}, "params"),
        ({"params": {"a\x00": 1}}, "params"),
        ({"params": {"list": [1, ["x\x00"]]}}, "params"),
        ({"document": {"s": "\x00"}}, "document"),
        ({"labels": {"k": "v\x00"}}, "labels.k"),
        ({"idempotency_key": "k\x00"}, "idempotency_key"),
        ({"scheduled_at": "0001-01-01T00:00:00+05:00"}, "scheduled_at"),
        ({"scheduled_at": "9999-12-31T23:00:00-05:00"}, "scheduled_at"),
    ],
)
def test_values_past_storage_limits_are_422(client: httpx.Client, body: JSON, field: str) -> None:
    err = error_of(client.post("/v1/jobs", json={"type": "t", **body}), 422)
    assert err["field"] == field
    assert list_all(client) == []


@pytest.mark.parametrize(
    "body",
    [
        b'{"type": "t", "params": {"s": "\\ud800"}}',
        b'{"type": "t", "params": {"\\udfff": 1}}',
        b'{"type": "t", "labels": {"k": "\\ud800"}}',
        b'{"type": "t", "labels": {"\\ud800": "v"}}',
        b'{"type": "\\ud800"}',
        b'{"type": "t", "params": {"x": NaN}}',
        b'{"type": "t", "params": {"x": Infinity}}',
        b'{"type": "t", "params": {"x": 1e999}}',
        b'{"type": "t", "params": {"x": ' + b"9" * 5000 + b"}}",
        b'{"type": "t", "params": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    ],
)
def test_json_that_cannot_be_stored_is_refused(client: httpx.Client, body: bytes) -> None:
    r = raw_json(client, "POST", "/v1/jobs", body)
    assert r.status_code in {400, 422}, r.text
    error_of(r, r.status_code)
    assert list_all(client) == []


def test_worker_numbers_past_column_limits_are_422(client: httpx.Client) -> None:
    create_job(client)
    claim_fields = {"queues": ["default"], "worker": {"pid": 2**40}}
    assert error_of(client.post("/v1/claims", json=claim_fields), 422)["field"] == "worker.pid"
    ex = claim_one(client)
    path = f"/v1/jobs/{ex['job_id']}/executions/1"
    for body, field in (
        ({"exit_code": 2**40}, "exit_code"),
        ({"expected_version": 2**40}, "expected_version"),
        ({"expected_version": -1}, "expected_version"),
        ({"status_details": {"k": "\x00"}}, "status_details.k"),
        ({"result": {"n": 2**70}}, "result"),
        ({"error": {"s": "\x00"}}, "error"),
    ):
        assert error_of(client.patch(path, json=body), 422)["field"] == field, body
    batch = {"updates": [{"job_id": ex["job_id"], "execution_number": 2**40}]}
    err = error_of(client.post("/v1/executions/batch", json=batch), 422)
    assert err["field"] == "updates.0.execution_number"


def test_text_with_nul_is_refused_in_keys_and_cancel_reasons(client: httpx.Client) -> None:
    err = error_of(client.post("/v1/keys", json={"name": "a\x00", "role": "viewer"}), 422)
    assert err["field"] == "name"
    job = create_job(client)
    err = error_of(client.post(f"/v1/jobs/{job['id']}/cancel", json={"reason": "\x00"}), 422)
    assert err["field"] == "reason"
    assert client.get(f"/v1/jobs/{job['id']}").json()["status"] == "queued"


# ---- nothing a client sends yields a 500 ---------------------------------------------------

JUNK: list[Any] = [
    None,
    "",
    "x",
    "\x00",
    "é" * 300,
    0,
    -1,
    1.5,
    True,
    2**31,
    2**63,
    10**30,
    -(10**30),
    1e308,
    [],
    [None, [[]]],
    {},
    {"nested": {"junk": [1, {"x": None}]}},
    "2024-02-30T25:61:00Z",
    "00000000-0000-0000-0000-000000000000",
]


def _fuzz(c: httpx.Client, method: str, url: str, base: JSON) -> int:
    """Send `base` with each field (and an extra one) set to each junk value; count requests."""
    sent = 0
    for field in [*base, "unexpected"]:
        for junk in JUNK:
            body = {**base, field: junk}
            assert_clean(c.request(method, url, json=body), body)
            sent += 1
    for raw in ("", "{", "[]", "null", json.dumps(JUNK)):
        assert_clean(raw_json(c, method, url, raw), raw)
        sent += 1
    return sent


def test_fuzzed_job_creation_never_fails_the_server(client: httpx.Client) -> None:
    base: JSON = {
        "type": "t",
        "queue": "q",
        "priority": 1,
        "params": {},
        "document": {},
        "labels": {},
        "parent_id": None,
        "scheduled_at": None,
        "max_attempts": 2,
        "backoff_base_s": 1,
        "backoff_max_s": 10,
        "timeout_s": 10,
        "lease_s": 10,
        "idempotency_key": None,
        "targets": [],
        "steps": [],
    }
    assert _fuzz(client, "POST", "/v1/jobs", base) > 300
    _fuzz(client, "POST", "/v1/jobs/batch", {"jobs": [base]})


def test_fuzzed_worker_calls_never_fail_the_server(client: httpx.Client) -> None:
    create_job(client)
    ex = claim_one(client)
    claim_body: JSON = {
        "queues": ["nothing"],
        "types": None,
        "max": 1,
        "lease_s": 5,
        "wait_s": 0,
        "worker": {"id": "w", "hostname": "h", "pid": 1},
    }
    _fuzz(client, "POST", "/v1/claims", claim_body)
    update: JSON = {
        "status": None,
        "expected_version": None,
        "status_details": {},
        "result": {},
        "error": {},
        "exit_code": None,
        "lease_s": 30,
        "worker_id": "w",
    }
    _fuzz(client, "PATCH", f"/v1/jobs/{ex['job_id']}/executions/1", update)
    item = {"job_id": ex["job_id"], "execution_number": 1, **update}
    _fuzz(client, "POST", "/v1/executions/batch", {"updates": [item]})
    _fuzz(client, "POST", "/v1/executions/batch", item)


def test_fuzzed_admin_calls_never_fail_the_server(tenant: Tenant, client: httpx.Client) -> None:
    job = create_job(client)
    _fuzz(client, "POST", f"/v1/jobs/{job['id']}/cancel", {"reason": "r", "force": False})
    _fuzz(client, "POST", "/v1/keys", {"name": "k", "role": "viewer", "queues": None})
    with tenant.server.client() as system:
        _fuzz(system, "POST", "/v1/tenants", {"name": f"fuzz-{uuid.uuid4().hex}"})


def test_fuzzed_list_queries_never_fail_the_server(client: httpx.Client) -> None:
    create_job(client, labels={"k": "v"})
    names = [
        "status",
        "status_in",
        "type",
        "queue_in",
        "parent_id",
        "label.k",
        "label.",
        'label.a"b',
        "label.$[0]",
        "created_at_gte",
        "updated_at_lte",
        "num_success_gte",
        "num_pages_lte",
        "limit",
        "cursor",
    ]
    values = ["", ",", ",,,", "x", "\x00", "%", "-1", "0", str(2**63), "1e5", "2024-13-01", "é"]
    for name in names:
        for value in values:
            r = client.get("/v1/jobs", params={name: value})
            assert_clean(r, (name, value))
