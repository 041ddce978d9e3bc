"""Capped exponential backoff with full jitter (the AWS architecture blog's recipe)."""
from __future__ import annotations

import random
from typing import Optional


class Backoff:
    """Delays for consecutive failures of one operation. Not thread-safe (one per uploader thread)."""

    def __init__(self, base: float = 0.25, cap: float = 5.0, rng: Optional[random.Random] = None) -> None:
        self.base = base
        self.cap = cap
        self.failures = 0
        self._rng = rng or random.Random()

    def next_delay(self, retry_after: Optional[float] = None) -> float:
        """The wait before the next attempt. A server's Retry-After is a minimum, not a suggestion."""
        ceiling = min(self.cap, self.base * (2 ** min(self.failures, 30)))
        self.failures += 1
        # Half fixed, half random: never hammer at once, never wait much less than the curve says.
        delay = ceiling / 2 + self._rng.uniform(0, ceiling / 2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, 60.0))
        return delay

    def reset(self) -> None:
        self.failures = 0
