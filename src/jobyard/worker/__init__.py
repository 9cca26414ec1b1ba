"""The worker runtime: register handlers per job type, and run them on jobs claimed over HTTP.

worker = Worker(queues=["default"], concurrency=4)

@worker.handler("email.send")
def send(ctx: JobContext) -> dict[str, str]:
    ...
"""

from jobyard.worker.context import JobContext
from jobyard.worker.outcomes import Reject
from jobyard.worker.runtime import Worker

__all__ = ["JobContext", "Reject", "Worker"]
