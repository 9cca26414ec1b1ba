"""Retry policy: capped exponential backoff with full jitter, and the attempt budget."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobyard.domain.retry import RetryPolicy

# The API allows at most 100 attempts; a little beyond that keeps the property honest.
attempts = st.integers(min_value=1, max_value=200)
bases = st.floats(min_value=0, max_value=3600, allow_nan=False)
caps = st.floats(min_value=0, max_value=86400, allow_nan=False)
seeds = st.integers(min_value=0, max_value=2**32)


def test_backoff_doubles_from_the_base_until_the_cap() -> None:
    policy = RetryPolicy(max_attempts=20, base_s=1.0, max_s=60.0, jitter=0)
    delays = [policy.delay_s(n) for n in range(1, 10)]
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]


def test_attempt_zero_waits_the_base() -> None:
    assert RetryPolicy(base_s=3.0, jitter=0).delay_s(0) == 3.0


@given(attempts, bases, caps)
def test_backoff_without_jitter_is_capped_and_never_shrinks(
    n: int, base: float, cap: float
) -> None:
    policy = RetryPolicy(base_s=base, max_s=cap, jitter=0)
    assert policy.delay_s(n) == min(cap, base * 2 ** (n - 1))
    assert policy.delay_s(n) <= policy.delay_s(n + 1) <= cap


@given(attempts, bases, caps, seeds)
def test_full_jitter_stays_between_zero_and_the_ceiling(
    n: int, base: float, cap: float, seed: int
) -> None:
    policy = RetryPolicy(base_s=base, max_s=cap)
    ceiling = RetryPolicy(base_s=base, max_s=cap, jitter=0).delay_s(n)
    assert 0 <= policy.delay_s(n, random.Random(seed)) <= ceiling


@given(attempts, seeds)
def test_partial_jitter_keeps_the_fixed_share(n: int, seed: int) -> None:
    policy = RetryPolicy(base_s=1.0, max_s=300.0, jitter=0.25)
    ceiling = min(300.0, 2.0 ** (n - 1))
    assert 0.75 * ceiling <= policy.delay_s(n, random.Random(seed)) <= ceiling


def test_full_jitter_spreads_retries_over_the_whole_window() -> None:
    policy = RetryPolicy(base_s=10.0, max_s=300.0)
    rng = random.Random(7)
    delays = [policy.delay_s(3, rng) for _ in range(1000)]
    assert min(delays) < 4.0
    assert max(delays) > 36.0
    assert len(set(delays)) > 990


def test_jitter_uses_the_module_random_when_given_no_generator() -> None:
    policy = RetryPolicy(base_s=2.0, max_s=300.0)
    delays = {policy.delay_s(2) for _ in range(50)}
    assert all(0 <= d <= 4.0 for d in delays)
    assert len(delays) > 1


@pytest.mark.parametrize(
    ("max_attempts", "attempt", "left"),
    [(1, 1, False), (3, 1, True), (3, 2, True), (3, 3, False), (3, 4, False)],
)
def test_attempts_left(max_attempts: int, attempt: int, left: bool) -> None:
    assert RetryPolicy(max_attempts=max_attempts).attempts_left(attempt) is left
