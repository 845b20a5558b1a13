"""A per-provider request budget kept in the Django cache, so web processes and workers share it.

Counts go into one-second buckets. A request is allowed when the buckets covering the last
`window + 1` seconds hold fewer than `limit` requests: counting one bucket more than the window
makes the guarantee hold for *every* window of that length, not only aligned ones.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache

from .errors import RateLimited

Clock = Callable[[], float]


class RequestBudget:
    def __init__(self, provider: str, *, limit: int, window: int, clock: Clock = time.time) -> None:
        self.provider = provider
        self.limit = limit
        self.window = window
        self.clock = clock

    def _key(self, second: int) -> str:
        return f"catalog:budget:{self.provider}:{second}"

    def used(self) -> int:
        now = int(self.clock())
        keys = [self._key(s) for s in range(now - self.window, now + 1)]
        return sum(cache.get_many(keys).values())

    def acquire(self) -> None:
        """Spend one request, or raise RateLimited (with the seconds until one frees up)."""
        if self.used() >= self.limit:
            raise RateLimited(self.provider, self._retry_after(), detail="local request budget spent")
        key = self._key(int(self.clock()))
        # add() then incr(): atomic on Redis and memcached; the first request of a second creates the key.
        cache.add(key, 0, timeout=self.window + 2)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=self.window + 2)

    def _retry_after(self) -> int:
        now = self.clock()
        second = int(now)
        counts = cache.get_many([self._key(s) for s in range(second - self.window, second + 1)])
        oldest = min((int(k.rsplit(":", 1)[1]) for k, v in counts.items() if v), default=second)
        # The oldest bucket stops counting once it is more than `window` seconds old.
        return max(1, math.ceil(oldest + self.window + 1 - now))


def budget_for(provider: str, *, clock: Clock = time.time) -> RequestBudget | None:
    """The configured budget for a provider, or None when it has none."""
    limits = settings.CATALOG_RATE_LIMITS.get(provider)
    if not limits:
        return None
    limit, window = limits
    return RequestBudget(provider, limit=int(limit), window=int(window), clock=clock)
