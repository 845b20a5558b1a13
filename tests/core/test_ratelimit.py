"""The shared rate/budget counter: windows, retry-after, and what happens when the cache is down."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache

from core.ratelimit import LOCAL_CACHE, Cooldown, FailMode, FixedWindow, SlidingWindow, Usage
from tests.conftest import FakeClock, free_port


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    cache.clear()


@pytest.fixture
def cache_down() -> RedisCache:
    """A real Redis cache backend whose server is not there (nothing listens on the port)."""
    return RedisCache(f"redis://127.0.0.1:{free_port()}/0", {"OPTIONS": {"socket_connect_timeout": 1}})


def sliding(clock: FakeClock, *, limit: int = 3, seconds: int = 10, bucket: int = 1) -> SlidingWindow:
    return SlidingWindow(
        "test:sliding", limit=limit, seconds=seconds, bucket=bucket, on_cache_error=FailMode.OPEN, clock=clock
    )


# --- SlidingWindow ---------------------------------------------------------------------------


def test_sliding_window_refuses_at_the_limit_and_allows_after_the_retry_after(clock):
    window = sliding(clock)
    for _ in range(3):
        assert window.take().allowed

    refused = window.take()

    assert not refused.allowed
    assert refused.count == 3
    assert refused.retry_after == 11  # the hits of this second count for 11 one-second buckets
    clock.now += refused.retry_after - 1
    assert not window.usage().allowed
    clock.now += 1
    assert window.take().allowed


def test_sliding_window_retry_after_waits_for_the_oldest_hits_to_leave(clock):
    window = sliding(clock)
    window.hit()
    clock.now += 4
    window.hit()
    window.hit()

    assert window.usage().retry_after == 7  # the first hit leaves 11 s after it was made


def test_sliding_window_retry_after_covers_an_overshoot(clock):
    window = sliding(clock, limit=2)
    window.hit()
    clock.now += 1
    window.hit()
    clock.now += 1
    window.hit()  # over the limit: as when processes race at the limit

    assert window.usage().retry_after == 10  # two buckets must leave, not only the oldest


def test_sliding_window_never_allows_more_than_the_limit_in_any_window(clock):
    window = sliding(clock, limit=20, seconds=5)
    allowed: list[float] = []
    for _ in range(2000):  # 20 simulated seconds of a caller trying every 10 ms
        if window.take().allowed:
            allowed.append(clock.now)
        clock.now += 0.01

    busiest = max(sum(1 for t in allowed if start <= t < start + 5) for start in allowed)
    assert busiest == 20
    assert len(allowed) >= 60  # and it does not starve the caller either


def test_hour_buckets_count_the_last_25_hours(clock):
    window = sliding(clock, limit=2, seconds=24 * 3600, bucket=3600)
    window.hit()
    clock.now += 10 * 3600
    window.hit()

    usage = window.usage()
    assert (usage.count, usage.allowed) == (2, False)
    first_hour = int(clock.now - 10 * 3600) // 3600
    assert usage.retry_after == (first_hour + 25) * 3600 - clock.now
    clock.now += usage.retry_after
    assert window.usage().count == 1


def test_windows_with_other_keys_count_apart(clock):
    sliding(clock, limit=1).hit()

    assert (
        SlidingWindow("test:other", limit=1, seconds=10, on_cache_error=FailMode.OPEN, clock=clock)
        .take()
        .allowed
    )


def test_a_window_must_be_whole_buckets(clock):
    with pytest.raises(ValueError, match="buckets"):
        sliding(clock, seconds=90, bucket=60)


# --- FixedWindow -----------------------------------------------------------------------------


def test_fixed_window_starts_at_the_first_hit_and_is_not_extended(clock):
    window = FixedWindow("test:fixed", limit=2, seconds=300, on_cache_error=FailMode.CLOSED, clock=clock)
    window.hit()
    clock.now += 100
    window.hit()

    usage = window.usage()

    assert (usage.count, usage.allowed, usage.remaining) == (2, False, 0)
    assert usage.retry_after == 200


def test_fixed_window_expires_with_the_cache_key():
    window = FixedWindow("test:fixed", limit=1, seconds=1, on_cache_error=FailMode.CLOSED)
    window.hit()
    assert not window.usage().allowed

    time.sleep(1.1)

    assert window.usage() == Usage(0, 1)


# --- Cooldown --------------------------------------------------------------------------------


def test_cooldown_counts_down(clock):
    cooldown = Cooldown("test:cooldown", on_cache_error=FailMode.OPEN, clock=clock)
    assert cooldown.remaining() == 0

    cooldown.start(60)
    clock.now += 20.5

    assert cooldown.remaining() == 40


# --- The cache is down -----------------------------------------------------------------------


def test_fail_open_allows_and_counts_nothing_when_the_cache_is_down(clock, cache_down, caplog):
    window = SlidingWindow(
        "test:down", limit=1, seconds=60, on_cache_error=FailMode.OPEN, clock=clock, cache=cache_down
    )

    window.hit()
    usage = window.take()

    assert usage == Usage(0, 1, degraded=True)
    assert "cache unavailable" in caplog.text


def test_fail_closed_refuses_for_one_window_when_the_cache_is_down(clock, cache_down):
    window = FixedWindow("test:down", limit=5, seconds=300, on_cache_error=FailMode.CLOSED, cache=cache_down)

    usage = window.take()

    assert usage == Usage(5, 5, retry_after=300, degraded=True)
    assert not usage.allowed


def test_fail_local_counts_in_process_memory_while_the_cache_is_down(clock, cache_down):
    LOCAL_CACHE.clear()
    window = FixedWindow(
        "test:local", limit=2, seconds=300, on_cache_error=FailMode.LOCAL, clock=clock, cache=cache_down
    )

    usages = [window.take() for _ in range(3)]

    assert [u.allowed for u in usages] == [True, True, False]
    assert all(u.degraded for u in usages)
    assert usages[-1].retry_after == 300
    other = FixedWindow(
        "test:local-other", limit=2, seconds=300, on_cache_error=FailMode.LOCAL, cache=cache_down
    )
    assert other.take().allowed  # each key still counts apart


@pytest.mark.parametrize(("mode", "expected"), [(FailMode.OPEN, 0), (FailMode.CLOSED, 30)])
def test_cooldown_when_the_cache_is_down(clock, cache_down, mode, expected):
    cooldown = Cooldown("test:down", on_cache_error=mode, seconds_when_down=30, clock=clock, cache=cache_down)

    cooldown.start(60)  # lost, without an error

    assert cooldown.remaining() == expected


# --- On a real Redis -------------------------------------------------------------------------


@pytest.mark.redis
def test_concurrent_hits_on_redis_are_all_counted(redis_url, clock):
    redis_cache = RedisCache(redis_url, {})
    redis_cache.clear()
    window = SlidingWindow(
        "test:redis", limit=10_000, seconds=60, on_cache_error=FailMode.CLOSED, clock=clock, cache=redis_cache
    )

    def hit_many() -> None:
        for _ in range(50):
            window.hit()

    threads = [threading.Thread(target=hit_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert window.usage() == Usage(400, 10_000)
