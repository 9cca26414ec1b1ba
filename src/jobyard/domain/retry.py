"""Retry policy: how many attempts a job gets and how long to wait between them."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped: base * 2**(attempt-1), at most `max_s`.

    Full jitter spreads retries of many jobs that failed together (a database blip, say), so they
    do not come back as one thundering herd.
    """

    max_attempts: int = 3
    base_s: float = 1.0
    max_s: float = 300.0
    jitter: float = 1.0

    def attempts_left(self, attempt: int) -> bool:
        """True when execution number `attempt` may be followed by another."""
        return attempt < self.max_attempts

    def delay_s(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before the attempt after execution number `attempt` (1-based)."""
        ceiling = min(self.max_s, self.base_s * (2 ** max(attempt - 1, 0)))
        if self.jitter <= 0:
            return float(ceiling)
        r: float = (rng or random).random()
        return float(ceiling * (1 - self.jitter) + ceiling * self.jitter * r)
