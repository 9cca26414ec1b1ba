"""The producer for Jobyard: the SDK's `AsyncClient`, as an application would enqueue.

Runs in Jobyard's environment; the server and key come from JOBYARD_URL and JOBYARD_API_KEY.
A batch is one `create_job_ids` call (`POST /v1/jobs/batch`, answered with the new ids only,
as the peers' batch calls answer), a single job one `create_job`.
"""

from __future__ import annotations

import sys

from bench.harness import produce
from jobyard import AsyncClient

QUEUE = "bench"
JOB_TYPES = {"plain": "bench.record", "follow": "bench.follow"}  # bench/noop_worker.py


class JobyardSink:
    def __init__(self, client: AsyncClient, job_type: str) -> None:
        self.client = client
        self.job_type = job_type

    async def enqueue_many(self, jobs: list[tuple[int, float]]) -> None:
        specs = [
            {"type": self.job_type, "queue": QUEUE, "params": {"k": k, "t": t}} for k, t in jobs
        ]
        made = await self.client.create_job_ids(specs)
        if len(made) != len(specs):
            raise RuntimeError(f"{len(made)} jobs made of {len(specs)}")

    async def enqueue_one(self, key: int, at: float) -> None:
        await self.client.create_job(self.job_type, queue=QUEUE, params={"k": key, "t": at})

    async def close(self) -> None:
        await self.client.aclose()


async def connect(plan: produce.Plan) -> produce.Sink:
    client = AsyncClient()
    await client.whoami()  # the connection is open before the clock starts
    return JobyardSink(client, JOB_TYPES[plan.kind])


if __name__ == "__main__":
    sys.exit(produce.main(connect))
