"""`GET /v1/jobs` over real HTTP: filters, cursor pages, newest first, and refusals."""

from __future__ import annotations

import base64
import threading
import time
from datetime import datetime, timedelta

import httpx
import pytest

from tests.support.api import (
    JSON,
    Tenant,
    claim,
    create_batch,
    create_job,
    error_of,
    list_all,
    report,
)

# A cursor in the right envelope around something that is no job id.
FORGED_CURSOR = base64.urlsafe_b64encode(b"v1:" + b"z" * 36).decode().rstrip("=")


def ids(jobs: list[JSON]) -> set[str]:
    return {j["id"] for j in jobs}


@pytest.fixture
def mix(client: httpx.Client) -> dict[str, JSON]:
    """Jobs that differ in every filtered field, created one after another."""
    jobs = {
        "parent": create_job(client, type="flow", queue="q1", labels={"user": "ann"}),
    }
    pid = jobs["parent"]["id"]
    jobs["child_a"] = create_job(
        client, type="step", queue="q1", parent_id=pid, labels={"user": "ann", "conn": "c1"}
    )
    jobs["child_b"] = create_job(
        client, type="step", queue="q2", parent_id=pid, labels={"user": "bob", "conn": "c1"}
    )
    jobs["solo"] = create_job(client, type="other", queue="q3", labels={"user": "bob"})
    jobs["done"] = create_job(client, type="other", queue="q4", labels={"user": "cy"})
    (ex,) = claim(client, "q4")
    assert report(client, ex, status="succeeded").status_code == 200
    jobs["stopped"] = create_job(client, type="other", queue="q5")
    r = client.post(f"/v1/jobs/{jobs['stopped']['id']}/cancel")
    assert r.status_code == 202
    return jobs


def listed(client: httpx.Client, **params: str) -> set[str]:
    return ids(list_all(client, **params))


def test_without_filters_every_job_is_listed_newest_first(
    client: httpx.Client, mix: dict[str, JSON]
) -> None:
    items = list_all(client)
    assert [j["id"] for j in items] == [j["id"] for j in reversed(mix.values())]
    created = [datetime.fromisoformat(j["created_at"]) for j in items]
    assert created == sorted(created, reverse=True)


def test_listed_jobs_carry_their_latest_execution(
    client: httpx.Client, mix: dict[str, JSON]
) -> None:
    for item in list_all(client):
        one = client.get(f"/v1/jobs/{item['id']}").json()
        assert item["latest_execution"] == one["latest_execution"]
        assert item["latest_execution"]["execution_number"] == item["attempts"]


def test_filter_by_status(client: httpx.Client, mix: dict[str, JSON]) -> None:
    assert listed(client, status="succeeded") == {mix["done"]["id"]}
    assert listed(client, status="canceled") == {mix["stopped"]["id"]}
    assert listed(client, status_in="succeeded,canceled") == {
        mix["done"]["id"],
        mix["stopped"]["id"],
    }
    queued = {mix[k]["id"] for k in ("parent", "child_a", "child_b", "solo")}
    assert listed(client, status="queued") == queued
    assert listed(client, status="failed") == set()


def test_filter_by_type_and_queue(client: httpx.Client, mix: dict[str, JSON]) -> None:
    assert listed(client, type="step") == {mix["child_a"]["id"], mix["child_b"]["id"]}
    assert listed(client, type_in="flow,step") == ids(
        [mix["parent"], mix["child_a"], mix["child_b"]]
    )
    assert listed(client, queue="q1") == {mix["parent"]["id"], mix["child_a"]["id"]}
    assert listed(client, queue_in="q2,q3") == {mix["child_b"]["id"], mix["solo"]["id"]}
    assert listed(client, type="step", queue="q2") == {mix["child_b"]["id"]}


def test_filter_by_labels(client: httpx.Client, mix: dict[str, JSON]) -> None:
    assert listed(client, **{"label.user": "ann"}) == {mix["parent"]["id"], mix["child_a"]["id"]}
    assert listed(client, **{"label.conn": "c1"}) == {mix["child_a"]["id"], mix["child_b"]["id"]}
    both = {"label.conn": "c1", "label.user": "bob"}
    assert listed(client, **both) == {mix["child_b"]["id"]}
    assert listed(client, **{"label.user": "nobody"}) == set()
    assert listed(client, **{"label.missing": "ann"}) == set()


def test_filter_by_parent(client: httpx.Client, mix: dict[str, JSON]) -> None:
    assert listed(client, parent_id=mix["parent"]["id"]) == {
        mix["child_a"]["id"],
        mix["child_b"]["id"],
    }
    assert listed(client, parent_id=mix["solo"]["id"]) == set()
    assert listed(client, parent_id="not-an-id") == set()


def test_filter_by_creation_time(client: httpx.Client, mix: dict[str, JSON]) -> None:
    order = list(mix)
    middle = mix["child_b"]["created_at"]
    at_or_after = {mix[k]["id"] for k in order[order.index("child_b") :]}
    at_or_before = {mix[k]["id"] for k in order[: order.index("child_b") + 1]}
    assert listed(client, created_at_gte=middle) == at_or_after
    assert listed(client, created_at_lte=middle) == at_or_before
    assert listed(client, created_at_gte=middle, created_at_lte=middle) == {mix["child_b"]["id"]}
    later = (datetime.fromisoformat(mix["stopped"]["created_at"]) + timedelta(hours=1)).isoformat()
    assert listed(client, created_at_gte=later) == set()
    assert listed(client, created_at_lte="2000-01-01T00:00:00Z") == set()


def test_filters_combine(client: httpx.Client, mix: dict[str, JSON]) -> None:
    assert listed(client, status="queued", type_in="step,other", **{"label.user": "bob"}) == {
        mix["child_b"]["id"],
        mix["solo"]["id"],
    }


def test_another_tenant_lists_none_of_these(mix: dict[str, JSON], other_tenant: Tenant) -> None:
    with other_tenant.client() as other:
        create_job(other, type="flow", queue="q1", labels={"user": "ann"})
        theirs = list_all(other)
        assert len(theirs) == 1
        assert not ids(theirs) & ids(list(mix.values()))
        assert listed(other, **{"label.user": "ann"}) == ids(theirs)


# ---- pages --------------------------------------------------------------------------------


def test_pages_default_to_100_and_walk_every_job_once(client: httpx.Client) -> None:
    created = create_batch(client, [{"type": "t", "params": {"i": i}} for i in range(250)])
    pages: list[list[JSON]] = []
    cursor: str | None = None
    while True:
        r = client.get("/v1/jobs", params={"cursor": cursor} if cursor else {})
        assert r.status_code == 200, r.text
        pages.append(r.json()["items"])
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [100, 100, 50]
    walked = [j["id"] for p in pages for j in p]
    assert walked == [j["id"] for j in reversed(created)]


def test_limit_up_to_1000(client: httpx.Client) -> None:
    create_batch(client, [{"type": "t"} for _ in range(1000)])
    create_job(client)
    r = client.get("/v1/jobs", params={"limit": 1000})
    assert r.status_code == 200, r.text
    assert len(r.json()["items"]) == 1000
    assert r.json()["next_cursor"] is not None
    small = client.get("/v1/jobs", params={"limit": 3}).json()
    assert len(small["items"]) == 3


@pytest.mark.parametrize("limit", ["0", "-1", "1001", "abc", "1.5", str(10**30)])
def test_limit_out_of_range_is_refused(client: httpx.Client, limit: str) -> None:
    err = error_of(client.get("/v1/jobs", params={"limit": limit}), 400)
    assert err["field"] == "limit"


def test_cursor_pages_are_stable_under_concurrent_inserts(
    client: httpx.Client, tenant: Tenant
) -> None:
    """Jobs created while a client pages through never make a page repeat or skip a job."""
    before = create_batch(client, [{"type": "old"} for _ in range(300)])
    stop = threading.Event()
    inserted: list[str] = []

    def insert() -> None:
        with tenant.client() as other:
            while not stop.is_set():
                for job in create_batch(other, [{"type": "new"} for _ in range(5)]):
                    inserted.append(job["id"])
                time.sleep(0.01)

    inserter = threading.Thread(target=insert)
    inserter.start()
    try:
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": 20}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/v1/jobs", params=params).json()
            seen.extend(j["id"] for j in page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
            time.sleep(0.01)
    finally:
        stop.set()
        inserter.join()
    assert inserted, "nothing was inserted while paging"
    assert len(seen) == len(set(seen)), "a job appeared on two pages"
    assert ids(before) <= set(seen), "a job that existed before paging was skipped"
    assert seen == sorted(seen, reverse=True)


# ---- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "asc"}, "sort"),
        ({"statuses": "queued"}, "statuses"),
        ({"label": "x"}, "label"),
        ({"status": "bogus"}, "status"),
        ({"status_in": "queued,bogus"}, "status"),
        ({"created_at_gte": "yesterday"}, "created_at_gte"),
        ({"created_at_lte": "0001-01-01T00:00:00+05:00"}, "created_at_lte"),
        ({"num_success_gte": "many"}, "num_success_gte"),
        ({"num_success_gte": str(10**30)}, "num_success_gte"),
        ({"cursor": "garbage"}, "cursor"),
        ({"cursor": FORGED_CURSOR}, "cursor"),
        ({"type": "a\x00b"}, "type"),
        ({"label.user": "\x00"}, "label.user"),
    ],
)
def test_bad_query_is_a_400_naming_the_parameter(
    client: httpx.Client, params: dict[str, str], field: str
) -> None:
    err = error_of(client.get("/v1/jobs", params=params), 400)
    assert err["code"] == "invalid_query"
    assert err["field"] == field
