"""The site-wide Freesound request budget, kept in the Django cache so web and workers share it.

Freesound allows 60 requests a minute and 2,000 a day per key, both as sliding windows, and
answers 429 without Retry-After. We stay under both with our own (lower) limits, as sliding
windows (core.ratelimit):

- the minute limit counts one-second buckets over the last 61 seconds;
- the day limit counts one-hour buckets over the last 25 hours.

After a real 429 the budget is blocked for a while, so nothing else is sent until Freesound is
likely to answer again.

Live searches made for one user's songs (the samples stage, its restart after a correction, "More
like these") also spend that user's daily share (`user_budget`, FREESOUND_USER_DAILY_SHARE
requests over the last 24 hours), so no one user can spend the site's day: past it, their samples
come from the local index only. When the cache is down the budget fails open: Freesound's own 429 still
stops us, and samples should not fail with the cache.
"""

from __future__ import annotations

import time

from django.conf import settings

from core.ratelimit import Clock, Cooldown, FailMode, SlidingWindow

MINUTE_BLOCK_SECONDS = 60
DAY_BLOCK_SECONDS = 60 * 60


def clock() -> float:
    """The default clock; tests replace `samples.budget.clock` to move time."""
    return time.time()


class BudgetSpent(Exception):
    """Our own budget says no; the Freesound client turns this into its Throttled error."""

    def __init__(self, retry_after: int, *, daily: bool, detail: str) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
        self.daily = daily
        self.detail = detail


class FreesoundBudget:
    def __init__(self, *, per_minute: int, per_day: int, clock: Clock) -> None:
        self.per_minute = per_minute
        self.per_day = per_day
        self.clock = clock
        self._minute = SlidingWindow(
            "samples:budget:s", limit=per_minute, seconds=60, on_cache_error=FailMode.OPEN, clock=clock
        )
        self._day = SlidingWindow(
            "samples:budget:h",
            limit=per_day,
            seconds=24 * 3600,
            bucket=3600,
            on_cache_error=FailMode.OPEN,
            clock=clock,
        )
        self._block = Cooldown("samples:budget:blocked_until", on_cache_error=FailMode.OPEN, clock=clock)

    # --- reading ---------------------------------------------------------------------------
    def used_last_minute(self) -> int:
        return self._minute.usage().count

    def used_today(self) -> int:
        return self._day.usage().count

    def remaining_today(self) -> int:
        return self._day.usage().remaining

    def blocked_for(self) -> int:
        return self._block.remaining()

    # --- spending --------------------------------------------------------------------------
    def acquire(self) -> None:
        """Spend one request, or raise BudgetSpent with the seconds until one is likely to be free."""
        if blocked := self.blocked_for():
            raise BudgetSpent(blocked, daily=blocked > MINUTE_BLOCK_SECONDS, detail="blocked after a 429")
        if not (day := self._day.usage()).allowed:
            raise BudgetSpent(day.retry_after, daily=True, detail="daily budget spent")
        if not (minute := self._minute.usage()).allowed:
            raise BudgetSpent(minute.retry_after, daily=False, detail="minute budget spent")
        self._minute.hit()
        self._day.hit()

    def block(self, *, daily: bool) -> int:
        """Freesound said 429: send nothing more for a while. Returns the seconds blocked."""
        seconds = DAY_BLOCK_SECONDS if daily else MINUTE_BLOCK_SECONDS
        self._block.start(seconds)
        return seconds


class ShareSpent(BudgetSpent):
    """The user's daily share of live searches is spent (the site's budget may not be)."""


class UserBudget(FreesoundBudget):
    """The site's budget, and one user's daily share of it: a request must fit both."""

    def __init__(
        self, *, user_id: int, per_user_day: int, per_minute: int, per_day: int, clock: Clock
    ) -> None:
        super().__init__(per_minute=per_minute, per_day=per_day, clock=clock)
        self.per_user_day = per_user_day
        self._user_day = SlidingWindow(
            f"samples:budget:user:{user_id}:h",
            limit=per_user_day,
            seconds=24 * 3600,
            bucket=3600,
            on_cache_error=FailMode.OPEN,
            clock=clock,
        )

    def user_used_today(self) -> int:
        return self._user_day.usage().count

    def acquire(self) -> None:
        if not (share := self._user_day.usage()).allowed:
            raise ShareSpent(share.retry_after, daily=True, detail="the user's daily share is spent")
        super().acquire()
        self._user_day.hit()


def default_budget() -> FreesoundBudget:
    return FreesoundBudget(
        per_minute=settings.FREESOUND_RATE_PER_MINUTE, per_day=settings.FREESOUND_RATE_PER_DAY, clock=clock
    )


def user_budget(*, user_id: int) -> UserBudget:
    """The budget for live searches made for this user's songs."""
    return UserBudget(
        user_id=user_id,
        per_user_day=settings.FREESOUND_USER_DAILY_SHARE,
        per_minute=settings.FREESOUND_RATE_PER_MINUTE,
        per_day=settings.FREESOUND_RATE_PER_DAY,
        clock=clock,
    )
