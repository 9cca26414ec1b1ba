"""Request limits, counted in this server process's memory.

- `TokenBuckets`: a rate per key (so many a second, with a burst), for the requests of an API
  key and for the failed authentications from a client address.
- `Slots`: at most so many held at once per key, for live log tails and long-polls.
- `Limits`: the server's set of them, as `Settings` configures them, refusing with `RateLimited`.

The limits are per server process: each `jobyard serve` node counts on its own, and a restart
forgets the counts. Behind a load balancer spreading one client over N nodes, that client gets
up to N times each limit. They keep one client from hogging a node; they are not a quota.

Every function here is plain code on a clock that is passed in, so it is tested without a server.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType

from jobyard.domain.errors import AwsAuthError, RateLimited, Unauthenticated

Clock = Callable[[], float]  # seconds, never going back (time.monotonic)

# The defaults (`Settings`, `jobyard serve`). A busy fleet sends a few hundred batched requests
# a second on one key; 1,000 a second, 2,000 at once, leaves it room and still stops a runaway.
RATE_PER_S = 1000.0
BURST = 2000
# Failed authentications per client address. Jobyard's own keys (256 random bits) cannot be
# guessed at any rate; this slows guessing at keys an operator chose and spares the key table.
# A client with a wrong key fails anyway, so 30 a minute costs an honest one nothing.
AUTH_FAILURES_PER_MIN = 30
# A person or a dashboard follows a few logs at once: 64 is ample, and bounds open streams.
MAX_TAILS_PER_KEY = 64
# A worker process holds one long-poll at a time (a claim, or a wait for kill orders), and a
# fleet often shares one key: 256 serves 256 worker processes on a key.
MAX_POLLS_PER_KEY = 256
PRUNE_MIN = 1024  # buckets kept before the first scan for ones that can be forgotten


class TokenBuckets:
    """One token bucket per key: it holds up to `burst` tokens and gains `per_s` tokens a second;
    each counted event takes one. A rate of 0 means no limit."""

    def __init__(self, per_s: float, burst: float, clock: Clock = time.monotonic) -> None:
        if per_s < 0 or (per_s > 0 and burst < 1):
            raise ValueError("a rate must be 0 or more, and its burst 1 or more")
        self.per_s = per_s
        self.burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when counted)
        self._prune_at = PRUNE_MIN

    def _level(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - at) * self.per_s)

    def wait_s(self, key: str) -> float:
        """Seconds until `key` has a token; 0 when it has one now. Takes nothing."""
        if not self.per_s:
            return 0.0
        level = self._level(key, self._clock())
        return 0.0 if level >= 1 else (1 - level) / self.per_s

    def take(self, key: str) -> float:
        """Take one of `key`'s tokens and answer 0; when it has none, take nothing and answer
        the seconds until it has one."""
        if not self.per_s:
            return 0.0
        now = self._clock()
        level = self._level(key, now)
        if level < 1:
            return (1 - level) / self.per_s
        self._buckets[key] = (level - 1, now)
        if len(self._buckets) >= self._prune_at:
            self._prune(now)
        return 0.0

    def __len__(self) -> int:
        return len(self._buckets)

    def _prune(self, now: float) -> None:
        """Forget the full buckets: a full bucket and none are the same. The scan runs when the
        table has doubled since the last one, so memory follows the keys active lately (not
        every address ever seen) at a constant cost a call."""
        self._buckets = {k: b for k, b in self._buckets.items() if self._level(k, now) < self.burst}
        self._prune_at = max(PRUNE_MIN, 2 * len(self._buckets))


class Slot:
    """One place taken in `Slots`. `release()`, or leaving a `with` block, gives it back; only
    the first call counts, so every path that ends a stream may call it."""

    __slots__ = ("_key", "_owner")

    def __init__(self, owner: Slots, key: str) -> None:
        self._owner: Slots | None = owner
        self._key = key

    def release(self) -> None:
        owner, self._owner = self._owner, None
        if owner is not None:
            owner._give_back(self._key)

    def __enter__(self) -> Slot:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.release()


class Slots:
    """At most `cap` places held at once per key; a cap of 0 means no cap."""

    def __init__(self, cap: int) -> None:
        if cap < 0:
            raise ValueError("a cap must be 0 or more")
        self.cap = cap
        self._held: dict[str, int] = {}

    def acquire(self, key: str) -> Slot | None:
        """A place for `key`, or None when it holds `cap` already."""
        held = self._held.get(key, 0)
        if self.cap and held >= self.cap:
            return None
        self._held[key] = held + 1
        return Slot(self, key)

    def held(self, key: str) -> int:
        return self._held.get(key, 0)

    def _give_back(self, key: str) -> None:
        left = self._held[key] - 1
        if left:
            self._held[key] = left
        else:
            del self._held[key]


class Limits:
    """The limits a server enforces; see the module's docstring for their scope."""

    def __init__(
        self,
        *,
        rate_per_s: float,
        rate_burst: int,
        auth_failures_per_min: int,
        max_tails_per_key: int,
        max_polls_per_key: int,
        clock: Clock = time.monotonic,
    ) -> None:
        self.requests = TokenBuckets(rate_per_s, rate_burst, clock)
        # N a minute, N at once: a client that trips it may then try once every 60/N seconds.
        self.auth_failures = TokenBuckets(auth_failures_per_min / 60, auth_failures_per_min, clock)
        self.tails = Slots(max_tails_per_key)
        self.polls = Slots(max_polls_per_key)

    @contextmanager
    def authenticating(self, address: str) -> Iterator[None]:
        """Around checking a key sent from `address`: while the address is over its rate of
        failed authentications, refuse at once, before the key is looked at (so a guesser
        learns nothing, even by guessing right); when the key fails (`Unauthenticated`, or a
        refused AWS signature), count it. Keys that pass are not counted."""
        wait = self.auth_failures.wait_s(address)
        if wait:
            message = "too many failed authentications from this address"
            raise RateLimited(message, retry_after_s=wait)
        try:
            yield
        except (Unauthenticated, AwsAuthError):
            self.auth_failures.take(address)
            raise

    def request(self, key_id: str) -> None:
        """Count one request of an authenticated key; over its rate, refuse it."""
        wait = self.requests.take(key_id)
        if wait:
            raise RateLimited("this key is over its request rate", retry_after_s=wait)

    def tail(self, key_id: str) -> Slot:
        """A place for one more live log tail of the key, to release when the stream ends."""
        return _taken(self.tails, key_id, "live log tails")

    def poll(self, key_id: str) -> Slot:
        """A place for one more long-poll of the key, to release when it answers."""
        return _taken(self.polls, key_id, "long-polls")


def _taken(slots: Slots, key_id: str, what: str) -> Slot:
    slot = slots.acquire(key_id)
    if slot is None:
        # When one ends is up to the client; one second is a fair time to look again.
        raise RateLimited(f"this key has {slots.cap} {what} open, the most it may", retry_after_s=1)
    return slot
