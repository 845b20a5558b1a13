"""A per-provider request budget kept in the Django cache, so web processes and workers share it.

A sliding window of one-second buckets (core.ratelimit): a request is allowed while the last
`window + 1` seconds hold fewer than `limit` requests. When the cache is down the budget fails
open: the provider's own 429 still protects it, and browsing should not fail with the cache.
"""

from __future__ import annotations

import time

from django.conf import settings

from core.ratelimit import Clock, FailMode, SlidingWindow

from .errors import RateLimited


class RequestBudget:
    def __init__(self, provider: str, *, limit: int, window: int, clock: Clock = time.time) -> None:
        self.provider = provider
        self.limit = limit
        self.window = window
        self._window = SlidingWindow(
            f"catalog:budget:{provider}",
            limit=limit,
            seconds=window,
            on_cache_error=FailMode.OPEN,
            clock=clock,
        )

    def used(self) -> int:
        return self._window.usage().count

    def acquire(self) -> None:
        """Spend one request, or raise RateLimited (with the seconds until one frees up)."""
        usage = self._window.take()
        if not usage.allowed:
            raise RateLimited(self.provider, usage.retry_after, detail="local request budget spent")


def budget_for(provider: str, *, clock: Clock = time.time) -> RequestBudget | None:
    """The configured budget for a provider, or None when it has none."""
    limits = settings.CATALOG_RATE_LIMITS.get(provider)
    if not limits:
        return None
    limit, window = limits
    return RequestBudget(provider, limit=int(limit), window=int(window), clock=clock)
