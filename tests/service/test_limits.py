"""The limiter's rules on a clock the test moves: token buckets, slots, and `Limits`."""

from __future__ import annotations

import pytest

from jobyard.domain.errors import AwsAuthError, RateLimited, Unauthenticated
from jobyard.service.limits import PRUNE_MIN, Limits, Slots, TokenBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def limits(
    clock: Clock,
    *,
    rate_per_s: float = 10,
    rate_burst: int = 20,
    auth_failures_per_min: int = 6,
    max_tails_per_key: int = 2,
    max_polls_per_key: int = 3,
) -> Limits:
    return Limits(
        rate_per_s=rate_per_s,
        rate_burst=rate_burst,
        auth_failures_per_min=auth_failures_per_min,
        max_tails_per_key=max_tails_per_key,
        max_polls_per_key=max_polls_per_key,
        clock=clock,
    )


# ---- token buckets ----------------------------------------------------------------------


def test_a_bucket_allows_its_burst_then_says_how_long_to_wait(clock: Clock) -> None:
    b = TokenBuckets(per_s=4, burst=3, clock=clock)
    assert [b.take("k") for _ in range(3)] == [0, 0, 0]
    assert b.take("k") == pytest.approx(0.25)
    clock.now += 0.1
    assert b.take("k") == pytest.approx(0.15)  # a refusal takes nothing


def test_a_bucket_refills_at_its_rate_up_to_its_burst(clock: Clock) -> None:
    b = TokenBuckets(per_s=2, burst=3, clock=clock)
    for _ in range(3):
        b.take("k")
    clock.now += 0.5
    assert b.take("k") == 0
    assert b.take("k") > 0
    clock.now += 3600
    assert [b.take("k") for _ in range(3)] == [0, 0, 0]
    assert b.wait_s("k") == pytest.approx(0.5)


def test_keys_have_buckets_of_their_own(clock: Clock) -> None:
    b = TokenBuckets(per_s=1, burst=1, clock=clock)
    assert b.take("a") == 0
    assert b.take("a") > 0
    assert b.take("b") == 0


def test_wait_s_takes_nothing(clock: Clock) -> None:
    b = TokenBuckets(per_s=1, burst=2, clock=clock)
    assert b.wait_s("k") == 0
    assert b.wait_s("k") == 0
    assert [b.take("k"), b.take("k")] == [0, 0]
    assert b.wait_s("k") == pytest.approx(1)


def test_a_rate_of_zero_is_no_limit(clock: Clock) -> None:
    b = TokenBuckets(per_s=0, burst=0, clock=clock)
    assert all(b.take("k") == 0 for _ in range(10_000))
    assert len(b) == 0


@pytest.mark.parametrize(("per_s", "burst"), [(-1, 5), (1, 0), (1, 0.5)])
def test_a_bucket_refuses_settings_that_make_no_sense(per_s: float, burst: float) -> None:
    with pytest.raises(ValueError, match="burst"):
        TokenBuckets(per_s=per_s, burst=burst)


def test_full_buckets_are_forgotten_so_memory_follows_recent_keys(clock: Clock) -> None:
    b = TokenBuckets(per_s=1, burst=5, clock=clock)
    for i in range(PRUNE_MIN - 1):
        b.take(f"old-{i}")
    clock.now += 10  # every old bucket is full again
    b.take("new")  # the table reaches PRUNE_MIN: the scan runs
    assert len(b) == 1
    for i in range(3 * PRUNE_MIN):  # busy keys are all kept
        b.take(f"busy-{i}")
    assert len(b) == 3 * PRUNE_MIN + 1


# ---- slots ------------------------------------------------------------------------------


def test_slots_cap_each_key_and_come_back_once() -> None:
    s = Slots(cap=2)
    first, second = s.acquire("k"), s.acquire("k")
    assert first is not None
    assert second is not None
    assert s.acquire("k") is None
    assert s.acquire("other") is not None
    first.release()
    first.release()  # only the first release counts
    assert s.held("k") == 1
    third = s.acquire("k")
    assert third is not None
    assert s.acquire("k") is None


def test_a_slot_is_given_back_when_its_block_ends_even_by_an_error() -> None:
    s = Slots(cap=1)
    slot = s.acquire("k")
    assert slot is not None
    with pytest.raises(RuntimeError), slot:
        raise RuntimeError("the stream broke")
    assert s.held("k") == 0


def test_a_cap_of_zero_is_no_cap() -> None:
    s = Slots(cap=0)
    held = [s.acquire("k") for _ in range(1000)]
    assert all(h is not None for h in held)
    assert s.held("k") == 1000
    with pytest.raises(ValueError, match="cap"):
        Slots(cap=-1)


# ---- the server's limits ----------------------------------------------------------------


def test_a_key_over_its_rate_is_refused_with_whole_seconds_to_wait(clock: Clock) -> None:
    lim = limits(clock, rate_per_s=0.5, rate_burst=2)
    lim.request("k")
    lim.request("k")
    with pytest.raises(RateLimited) as refused:
        lim.request("k")
    assert refused.value.code == "rate_limited"
    assert refused.value.retry_after_s == 2
    lim.request("other")
    clock.now += 2
    lim.request("k")


def test_retry_after_is_at_least_one_second(clock: Clock) -> None:
    lim = limits(clock, rate_per_s=1000, rate_burst=1)
    lim.request("k")
    with pytest.raises(RateLimited) as refused:
        lim.request("k")
    assert refused.value.retry_after_s == 1
    assert RateLimited(retry_after_s=0.01).retry_after_s == 1
    assert RateLimited(retry_after_s=2.01).retry_after_s == 3


def fail(lim: Limits, address: str) -> None:
    with pytest.raises(Unauthenticated), lim.authenticating(address):
        raise Unauthenticated("the API key is not valid")


def test_failed_authentications_lock_an_address_out_before_any_key_is_checked(
    clock: Clock,
) -> None:
    lim = limits(clock, auth_failures_per_min=6)  # one back every 10 s
    for _ in range(6):
        fail(lim, "10.0.0.1")
    checked = []
    with pytest.raises(RateLimited) as refused, lim.authenticating("10.0.0.1"):
        checked.append("key")  # never reached: a good key is refused as well
    assert checked == []
    assert refused.value.retry_after_s == 10
    with lim.authenticating("10.0.0.2"):  # another address is not affected
        pass
    clock.now += 10
    with lim.authenticating("10.0.0.1"):
        pass


def test_keys_that_pass_are_not_counted(clock: Clock) -> None:
    lim = limits(clock, auth_failures_per_min=3)
    for _ in range(2):
        fail(lim, "a")
    for _ in range(100):
        with lim.authenticating("a"):
            pass
    fail(lim, "a")  # the third failure is still answered as a failure
    with pytest.raises(RateLimited), lim.authenticating("a"):
        pass


def test_a_refused_aws_signature_is_a_failed_authentication(clock: Clock) -> None:
    lim = limits(clock, auth_failures_per_min=1)
    with pytest.raises(AwsAuthError), lim.authenticating("a"):
        raise AwsAuthError("InvalidSignatureException", "the signature does not match")
    with pytest.raises(RateLimited), lim.authenticating("a"):
        pass


def test_other_errors_are_not_failed_authentications(clock: Clock) -> None:
    lim = limits(clock, auth_failures_per_min=1)
    with pytest.raises(KeyError), lim.authenticating("a"):
        raise KeyError("the database is down")
    fail(lim, "a")
    with pytest.raises(RateLimited), lim.authenticating("a"):
        pass


def test_no_limit_on_failed_authentications_when_zero(clock: Clock) -> None:
    lim = limits(clock, auth_failures_per_min=0)
    for _ in range(1000):
        fail(lim, "a")


def test_tails_and_polls_have_caps_of_their_own(clock: Clock) -> None:
    lim = limits(clock, max_tails_per_key=2, max_polls_per_key=3)
    tails = [lim.tail("k") for _ in range(2)]
    with pytest.raises(RateLimited, match="2 live log tails") as refused:
        lim.tail("k")
    assert refused.value.retry_after_s == 1
    polls = [lim.poll("k") for _ in range(3)]
    with pytest.raises(RateLimited, match="3 long-polls"):
        lim.poll("k")
    lim.tail("other").release()
    tails[0].release()
    lim.tail("k")
    polls[1].release()
    lim.poll("k")
