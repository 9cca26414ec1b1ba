"""The Notifier protocol: publish a topic, wait until one of some topics is published."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from jobyard.notify.local import Listener


class Notifier(Protocol):
    async def start(self) -> None: ...
    async def close(self) -> None: ...

    async def publish(self, topics: set[str]) -> None:
        """Announce that each topic has news (for claims: `tenant:queue` has work)."""

    def listen(self, topics: list[str]) -> AbstractAsyncContextManager[Listener]:
        """Register for `topics` until the block ends; its `wait` misses nothing published
        after the registration."""

    async def wait(self, topics: list[str], timeout_s: float) -> bool:
        """Wait until one of `topics` is published or `timeout_s` passes; True when published."""


def queue_topic(tenant_id: str, queue: str) -> str:
    return f"{tenant_id}:{queue}"


def kill_topic(tenant_id: str, worker_id: str) -> str:
    """Published when a kill order is registered on an execution this worker holds."""
    return f"kill:{tenant_id}:{worker_id}"
