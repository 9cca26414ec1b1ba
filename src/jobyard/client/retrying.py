"""When to send a request again: connection errors, 429 and 503 only, with backoff and jitter.

Other errors are answers, not accidents; sending them again would change nothing. Creates are
safe to resend because every create carries an idempotency key.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import httpx

RETRY_STATUSES = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class Retries:
    attempts: int = 4
    base_s: float = 0.2
    max_s: float = 5.0

    def delay_s(self, attempt: int, response: httpx.Response | None) -> float:
        """Seconds before attempt `attempt + 1`; a server's `Retry-After` wins when it gives one."""
        if response is not None:
            after = response.headers.get("retry-after")
            if after is not None:
                try:
                    return min(float(after), self.max_s * 4)
                except ValueError:
                    pass
        ceiling = min(self.max_s, self.base_s * 2**attempt)
        return random.uniform(ceiling / 2, ceiling)

    def should_retry(self, attempt: int, response: httpx.Response | None) -> bool:
        if attempt + 1 >= self.attempts:
            return False
        return response is None or response.status_code in RETRY_STATUSES
