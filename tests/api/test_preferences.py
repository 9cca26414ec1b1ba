"""`Prefer: return=minimal` on the batch routes: less to answer, the same effect."""

from __future__ import annotations

import httpx

from tests.support.api import claim, create_batch, get_job

MINIMAL = {"Prefer": "return=minimal"}


def test_a_minimal_batch_create_answers_ids_and_statuses(client: httpx.Client) -> None:
    r = client.post(
        "/v1/jobs/batch",
        json={"jobs": [{"type": "a"}, {"type": "b", "scheduled_at": "2999-01-01T00:00:00Z"}]},
        headers=MINIMAL,
    )
    assert r.status_code == 201, r.text
    assert r.headers["Preference-Applied"] == "return=minimal"
    made = r.json()["jobs"]
    assert [set(j) for j in made] == [{"id", "status"}, {"id", "status"}]
    assert [j["status"] for j in made] == ["queued", "scheduled"]
    for j in made:
        assert get_job(client, j["id"])["status"] == j["status"]


def test_other_preferences_keep_the_whole_answer(client: httpx.Client) -> None:
    r = client.post(
        "/v1/jobs/batch",
        json={"jobs": [{"type": "a"}]},
        headers={"Prefer": "return=representation"},
    )
    assert r.status_code == 201, r.text
    assert "Preference-Applied" not in r.headers
    assert r.json()["jobs"][0]["type"] == "a"
    both = client.post(
        "/v1/jobs/batch",
        json={"jobs": [{"type": "a"}]},
        headers={"Prefer": "wait=5, return=minimal"},
    )
    assert set(both.json()["jobs"][0]) == {"id", "status"}


def test_a_minimal_batch_update_leaves_out_executions_that_applied(client: httpx.Client) -> None:
    create_batch(client, [{"type": "t"}, {"type": "t"}])
    first, second = claim(client, max=2)
    stale = {"job_id": second["job_id"], "execution_number": 1, "status": "succeeded"}
    updates = [
        {"job_id": first["job_id"], "execution_number": 1, "status": "succeeded"},
        {**stale, "expected_version": second["version"] + 7},  # refused: not its version
    ]
    r = client.post("/v1/executions/batch", json={"updates": updates}, headers=MINIMAL)
    assert r.status_code == 200, r.text
    assert r.headers["Preference-Applied"] == "return=minimal"
    ok, refused = r.json()["results"]
    assert (ok["ok"], ok["execution"]) == (True, None)
    assert refused["ok"] is False
    assert refused["execution"]["status"] == "in_progress"  # a refusal still tells the state
    assert get_job(client, first["job_id"])["status"] == "succeeded"

    plain = client.post("/v1/executions/batch", json={"updates": [stale]})
    assert plain.json()["results"][0]["execution"]["status"] == "succeeded"
