"""Smoke test of the fixtures: a store on each backend answers its clock."""

from __future__ import annotations

from jobyard.store import Store


async def test_store_answers_clock(store: Store) -> None:
    now = await store.now()
    assert now.tzinfo is not None
