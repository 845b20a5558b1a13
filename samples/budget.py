"""The site-wide Freesound request budget, kept in the Django cache so web and workers share it.

Freesound allows 60 requests a minute and 2,000 a day per key, both as sliding windows, and
answers 429 without Retry-After. We stay under both with our own (lower) limits:

- the minute limit counts one-second buckets over the last 61 seconds;
- the day limit counts one-hour buckets over the last 25 hours.

Counting one bucket more than the window makes the limit hold for every window of that length,
not only for aligned ones. After a real 429 the budget is blocked for a while, so nothing
else is sent until Freesound is likely to answer again.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache

Clock = Callable[[], float]

MINUTE_BLOCK_SECONDS = 60
DAY_BLOCK_SECONDS = 60 * 60
_BLOCK_KEY = "samples:budget:blocked_until"


def clock() -> float:
    """The default clock; tests replace `samples.budget.clock` to move time."""
    return time.time()


class FreesoundBudget:
    def __init__(self, *, per_minute: int, per_day: int, clock: Clock) -> None:
        self.per_minute = per_minute
        self.per_day = per_day
        self.clock = clock

    # --- reading ---------------------------------------------------------------------------
    def used_last_minute(self) -> int:
        now = int(self.clock())
        return self._sum([f"samples:budget:s:{s}" for s in range(now - 60, now + 1)])

    def used_today(self) -> int:
        hour = int(self.clock()) // 3600
        return self._sum([f"samples:budget:h:{h}" for h in range(hour - 24, hour + 1)])

    def remaining_today(self) -> int:
        return max(0, self.per_day - self.used_today())

    def blocked_for(self) -> int:
        until = cache.get(_BLOCK_KEY) or 0
        return max(0, math.ceil(until - self.clock()))

    # --- spending --------------------------------------------------------------------------
    def acquire(self) -> None:
        """Spend one request, or raise Throttled with the seconds until one is likely to be free."""
        from .freesound import Throttled

        if blocked := self.blocked_for():
            raise Throttled(blocked, daily=blocked > MINUTE_BLOCK_SECONDS, detail="blocked after a 429")
        if self.used_today() >= self.per_day:
            raise Throttled(self._seconds_to_next_hour(), daily=True, detail="daily budget spent")
        if self.used_last_minute() >= self.per_minute:
            raise Throttled(self._seconds_to_minute_free(), detail="minute budget spent")
        now = int(self.clock())
        self._incr(f"samples:budget:s:{now}", timeout=62)
        self._incr(f"samples:budget:h:{now // 3600}", timeout=25 * 3600 + 60)

    def block(self, *, daily: bool) -> int:
        """Freesound said 429: send nothing more for a while. Returns the seconds blocked."""
        seconds = DAY_BLOCK_SECONDS if daily else MINUTE_BLOCK_SECONDS
        cache.set(_BLOCK_KEY, self.clock() + seconds, timeout=seconds + 5)
        return seconds

    # --- helpers ---------------------------------------------------------------------------
    def _sum(self, keys: list[str]) -> int:
        return sum(cache.get_many(keys).values())

    def _incr(self, key: str, *, timeout: int) -> None:
        # add() then incr(): atomic on Redis; the first request of a bucket creates the key.
        cache.add(key, 0, timeout=timeout)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=timeout)

    def _seconds_to_minute_free(self) -> int:
        now = self.clock()
        second = int(now)
        counts = cache.get_many([f"samples:budget:s:{s}" for s in range(second - 60, second + 1)])
        oldest = min((int(k.rsplit(":", 1)[1]) for k, v in counts.items() if v), default=second)
        return max(1, math.ceil(oldest + 61 - now))

    def _seconds_to_next_hour(self) -> int:
        now = self.clock()
        return max(1, math.ceil((int(now) // 3600 + 1) * 3600 - now))


def default_budget() -> FreesoundBudget:
    return FreesoundBudget(
        per_minute=settings.FREESOUND_RATE_PER_MINUTE, per_day=settings.FREESOUND_RATE_PER_DAY, clock=clock
    )
