"""A real server on each backend: create a job, claim it, finish it."""

from __future__ import annotations

from tests.support.server import Server


def test_create_claim_finish(server: Server) -> None:
    with server.client() as c:
        job = c.post("/v1/jobs", json={"type": "email", "params": {"to": "a@example.com"}})
        assert job.status_code == 201, job.text
        claim = c.post("/v1/claims", json={"queues": ["default"]})
        assert claim.status_code == 200, claim.text
        (ex,) = claim.json()["executions"]
        assert ex["job_id"] == job.json()["id"]
        done = c.patch(
            f"/v1/jobs/{ex['job_id']}/executions/{ex['execution_number']}",
            json={"status": "succeeded", "expected_version": ex["version"]},
        )
        assert done.status_code == 200, done.text
        assert c.get(f"/v1/jobs/{ex['job_id']}").json()["status"] == "succeeded"
