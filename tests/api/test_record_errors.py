"""Record errors over HTTP: appends, pages, resolving, the signed file; and the primary error."""

from __future__ import annotations

import csv
import io
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx

from tests.support.api import JSON, claim_one, create_job, error_of, execution_path, report


def add_errors(c: httpx.Client, ex: JSON, n: int, start: int = 0) -> None:
    errors = [
        {"code": "E_ROW", "message": f"row {i} is bad", "source": "csv", "data": {"row": i}}
        for i in range(start, start + n)
    ]
    r = c.post(execution_path(ex) + "/record-errors", json={"errors": errors})
    assert r.status_code == 200, r.text
    assert r.json()["added"] == n


def test_pages_of_at_most_a_thousand(client: httpx.Client) -> None:
    job = create_job(client)
    ex = claim_one(client)
    for start in range(0, 2500, 500):
        add_errors(client, ex, 500, start)
    rows: list[JSON] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"cursor": cursor} if cursor else {}
        page = client.get(f"/v1/jobs/{job['id']}/record-errors", params=params).json()
        assert len(page["items"]) <= 1000
        rows += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert [r["data"]["row"] for r in rows] == list(range(2500))
    assert all(r["resolved"] is False for r in rows)


def test_resolve_some_then_all(client: httpx.Client) -> None:
    job = create_job(client)
    ex = claim_one(client)
    add_errors(client, ex, 5)
    items = client.get(f"/v1/jobs/{job['id']}/record-errors").json()["items"]
    one = client.post(f"/v1/jobs/{job['id']}/record-errors/resolve", json={"ids": [items[0]["id"]]})
    assert one.json() == {"resolved": 1}
    open_ = client.get(f"/v1/jobs/{job['id']}/record-errors", params={"resolved": "false"})
    assert len(open_.json()["items"]) == 4
    assert client.post(f"/v1/jobs/{job['id']}/record-errors/resolve").json() == {"resolved": 4}


def test_signed_file_holds_every_error_and_refuses_tampering(client: httpx.Client) -> None:
    job = create_job(client)
    ex = claim_one(client)
    for start in range(0, 2500, 1000):
        add_errors(client, ex, min(1000, 2500 - start), start)
    made = client.post(f"/v1/jobs/{job['id']}/record-errors/file-url").json()
    assert made["url"].startswith("/v1/files/")
    with httpx.Client(base_url=str(client.base_url)) as anonymous:
        check_signed_file(client, anonymous, job, made)


def check_signed_file(client: httpx.Client, anonymous: httpx.Client, job: JSON, made: JSON) -> None:
    r = anonymous.get(made["url"])
    assert r.status_code == 200, r.text
    rows = [json.loads(line) for line in r.text.splitlines()]
    assert [row["data"]["row"] for row in rows] == list(range(2500))

    as_csv = client.post(
        f"/v1/jobs/{job['id']}/record-errors/file-url", json={"format": "csv"}
    ).json()
    table = list(csv.DictReader(io.StringIO(anonymous.get(as_csv["url"]).text)))
    assert len(table) == 2500
    assert table[7]["message"] == "row 7 is bad"

    url = urlparse(made["url"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    tampered = [
        url.path.replace(job["id"], create_job(client)["id"]) + "?" + url.query,
        url.path.replace(".ndjson", ".csv") + "?" + url.query,
        url.path + "?" + urlencode(query | {"expires": str(int(query["expires"]) + 60)}),
        url.path + "?" + urlencode(query | {"sig": "0" * 64}),
        url.path,
    ]
    for bad in tampered:
        assert error_of(anonymous.get(bad), 403)["code"] == "forbidden", bad
    for method in ("POST", "PUT", "DELETE"):
        assert error_of(anonymous.request(method, made["url"]), 403)["code"] == "forbidden"
    expired = client.post(
        f"/v1/jobs/{job['id']}/record-errors/file-url", json={"expires_in_s": 1}
    ).json()
    time.sleep(2.1)
    assert error_of(anonymous.get(expired["url"]), 403)["code"] == "forbidden"


def test_primary_error_is_204_until_there_is_one(client: httpx.Client) -> None:
    job = create_job(client, max_attempts=1)
    assert client.get(f"/v1/jobs/{job['id']}/error").status_code == 204
    ex = claim_one(client)
    failed = report(
        client,
        ex,
        status="failed",
        error={"code": "E_IO", "message": "disk full", "details": {"d": 1}},
    )
    assert failed.status_code == 200, failed.text
    err = client.get(f"/v1/jobs/{job['id']}/error")
    assert err.status_code == 200
    assert err.json() | {"at": None} == {
        "code": "E_IO",
        "message": "disk full",
        "details": {"d": 1},
        "at": None,
    }
