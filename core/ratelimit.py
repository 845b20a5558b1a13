"""Counting hits against a limit in the Django cache, so web processes and workers share one count.

- `FixedWindow`: one counter that starts with the first hit and expires `seconds` later.
- `SlidingWindow`: counts in buckets of `bucket` seconds. A hit is allowed while the buckets
  covering the last `seconds + bucket` seconds hold fewer than `limit` hits: counting one bucket
  more than the window makes the limit hold for every window of that length, not only aligned ones.
- `Cooldown`: "send nothing until", set after a third party said it is overloaded.

A hit may count more than one (`hit(amount)`): a window then bounds a quantity, such as the bytes
written for a user in a day (samples.quota).

Counting is add() then incr(): both are atomic on Redis and memcached, and the first hit creates
the key with its expiry, which later increments keep. Checking and counting are two steps, so
processes racing at the limit can each overshoot it by one; callers keep limits a little lower.

When the cache cannot be reached, the caller's `FailMode` decides: OPEN allows (a request budget
should not take the site down with the cache), CLOSED refuses for one window, LOCAL counts in this
process's memory instead (a guard against password guessing keeps working, per process, without
locking everyone out while the cache is down). Either way it logs and never raises.
"""

from __future__ import annotations

import copy
import enum
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from django.core.cache import cache as default_cache
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

Clock = Callable[[], float]

# What a cache backend raises when its server is down or unreachable: redis-py's errors for the
# Redis backend; OSError (refused, reset, timed out, disk) for the others.
CACHE_ERRORS: tuple[type[Exception], ...] = (RedisError, OSError)


class FailMode(enum.Enum):
    OPEN = "open"  # cache down: allow, as if nothing had been counted
    CLOSED = "closed"  # cache down: refuse, as if the limit were reached
    LOCAL = "local"  # cache down: count in this process's memory (LOCAL_CACHE) meanwhile


# Where FailMode.LOCAL windows count while the shared cache is down: one per process, so a client
# gets at most (processes × limit) tries, and nobody is refused only because Redis is.
LOCAL_CACHE = LocMemCache("ratelimit-local-fallback", {"OPTIONS": {"MAX_ENTRIES": 10_000}})


@dataclass(frozen=True)
class Usage:
    count: int
    limit: int
    retry_after: int = 0  # seconds until a hit is allowed again; 0 while it is
    degraded: bool = False  # the cache could not be read: count follows the FailMode

    @property
    def allowed(self) -> bool:
        return self.count < self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)


def _count_hit(cache: BaseCache, key: str, *, timeout: int, amount: int = 1) -> None:
    # add() creates the key (and its expiry) only for the first hit; incr() keeps the expiry.
    if cache.add(key, amount, timeout=timeout):
        return
    try:
        cache.incr(key, amount)
    except ValueError:  # expired between add() and incr()
        cache.set(key, amount, timeout=timeout)


class _Window:
    def __init__(
        self,
        key: str,
        *,
        limit: int,
        seconds: int,
        on_cache_error: FailMode,
        clock: Clock = time.time,
        cache: BaseCache | None = None,
    ) -> None:
        self.key = key
        self.limit = limit
        self.seconds = seconds
        self.on_cache_error = on_cache_error
        self.clock = clock
        self.cache: BaseCache = cache if cache is not None else default_cache

    def usage(self) -> Usage:
        """How many hits the window holds now, and when the next is allowed if none is."""
        try:
            return self._read()
        except CACHE_ERRORS as exc:
            log.warning(
                "rate limit %s: cache unavailable, failing %s: %r", self.key, self.on_cache_error.value, exc
            )
            if self.on_cache_error is FailMode.LOCAL:
                return replace(self._local()._read(), degraded=True)
            if self.on_cache_error is FailMode.OPEN:
                return Usage(0, self.limit, degraded=True)
            return Usage(self.limit, self.limit, retry_after=max(1, self.seconds), degraded=True)

    def hit(self, amount: int = 1) -> None:
        """Count one hit, or `amount` units (bytes, say), whether or not the limit allows it:
        checking is `usage()`'s job."""
        try:
            self._write(amount)
        except CACHE_ERRORS as exc:
            if self.on_cache_error is FailMode.LOCAL:
                self._local()._write(amount)
                return
            log.warning("rate limit %s: cache unavailable, hit not counted: %r", self.key, exc)

    def _local(self) -> _Window:
        """This window, counting in the process's own memory."""
        local = copy.copy(self)
        local.cache = LOCAL_CACHE
        return local

    def take(self) -> Usage:
        """Count one hit if the limit allows it; the usage seen before says whether it did."""
        usage = self.usage()
        if usage.allowed:
            self.hit()
        return usage

    def _read(self) -> Usage:
        raise NotImplementedError

    def _write(self, amount: int) -> None:
        raise NotImplementedError


class FixedWindow(_Window):
    """One counter from the first hit until `seconds` later; hits meanwhile do not extend it."""

    @property
    def _until_key(self) -> str:
        return f"{self.key}:until"

    def _read(self) -> Usage:
        values = self.cache.get_many([self.key, self._until_key])
        count = int(values.get(self.key) or 0)
        if count < self.limit:
            return Usage(count, self.limit)
        until = values.get(self._until_key)
        left = self.seconds if until is None else math.ceil(until - self.clock())
        return Usage(count, self.limit, retry_after=max(1, left))

    def _write(self, amount: int) -> None:
        # The end of the window is stored beside the count, so retry-after needs no TTL query.
        self.cache.add(self._until_key, self.clock() + self.seconds, timeout=self.seconds)
        _count_hit(self.cache, self.key, timeout=self.seconds, amount=amount)


class SlidingWindow(_Window):
    """Hits counted in `bucket`-second buckets over the last `seconds + bucket` seconds."""

    def __init__(
        self,
        key: str,
        *,
        limit: int,
        seconds: int,
        bucket: int = 1,
        on_cache_error: FailMode,
        clock: Clock = time.time,
        cache: BaseCache | None = None,
    ) -> None:
        if bucket < 1 or seconds % bucket:
            raise ValueError(f"window of {seconds} s cannot be cut into {bucket} s buckets")
        super().__init__(
            key, limit=limit, seconds=seconds, on_cache_error=on_cache_error, clock=clock, cache=cache
        )
        self.bucket = bucket
        self.buckets = seconds // bucket + 1

    def _bucket_key(self, index: int) -> str:
        return f"{self.key}:{index}"

    def _read(self) -> Usage:
        now = self.clock()
        current = int(now) // self.bucket
        indexes = range(current - self.buckets + 1, current + 1)
        values = self.cache.get_many([self._bucket_key(i) for i in indexes])
        counts = [(i, int(values.get(self._bucket_key(i)) or 0)) for i in indexes]
        count = sum(c for _, c in counts)
        if count < self.limit:
            return Usage(count, self.limit)
        return Usage(count, self.limit, retry_after=self._retry_after(counts, count, now))

    def _retry_after(self, counts: list[tuple[int, int]], count: int, now: float) -> int:
        # Buckets leave the window oldest first; wait until enough have left to be under the limit.
        frees_at = (counts[-1][0] + self.buckets) * self.bucket
        for index, hits in counts:
            if hits:
                count -= hits
                frees_at = (index + self.buckets) * self.bucket
                if count < self.limit:
                    break
        return max(1, math.ceil(frees_at - now))

    def _write(self, amount: int) -> None:
        index = int(self.clock()) // self.bucket
        # A bucket must live as long as it counts: until `buckets` buckets after its own start.
        _count_hit(self.cache, self._bucket_key(index), timeout=self.buckets * self.bucket + 1, amount=amount)


class Cooldown:
    """ "Send nothing until": set when a third party answered that it is overloaded."""

    def __init__(
        self,
        key: str,
        *,
        on_cache_error: FailMode,
        seconds_when_down: int = 60,
        clock: Clock = time.time,
        cache: BaseCache | None = None,
    ) -> None:
        self.key = key
        self.on_cache_error = on_cache_error
        self.seconds_when_down = seconds_when_down
        self.clock = clock
        self.cache: BaseCache = cache if cache is not None else default_cache

    def start(self, seconds: int) -> None:
        try:
            self.cache.set(self.key, self.clock() + seconds, timeout=seconds + 5)
        except CACHE_ERRORS as exc:
            log.warning("cooldown %s: cache unavailable, not stored: %r", self.key, exc)

    def remaining(self) -> int:
        """Whole seconds left, 0 when none."""
        try:
            until = self.cache.get(self.key) or 0
        except CACHE_ERRORS as exc:
            log.warning(
                "cooldown %s: cache unavailable, failing %s: %r", self.key, self.on_cache_error.value, exc
            )
            return 0 if self.on_cache_error is FailMode.OPEN else self.seconds_when_down
        return max(0, math.ceil(until - self.clock()))
