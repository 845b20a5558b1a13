"""The Freesound budget: minute and day windows, the block after a 429, and a cache that is down."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from samples.budget import DAY_BLOCK_SECONDS, BudgetSpent, default_budget
from tests.conftest import free_port


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    cache.clear()


def test_the_day_limit_frees_up_when_the_oldest_hour_leaves(settings, clock):
    settings.FREESOUND_RATE_PER_DAY = 2
    budget = default_budget()
    budget.acquire()
    first = clock.now
    clock.advance(5 * 3600)
    budget.acquire()

    with pytest.raises(BudgetSpent) as caught:
        budget.acquire()

    assert caught.value.daily
    assert caught.value.retry_after == (int(first) // 3600 + 25) * 3600 - clock.now
    clock.advance(caught.value.retry_after)
    budget.acquire()
    assert budget.used_today() == 2


def test_a_429_blocks_every_request_for_a_while(clock):
    budget = default_budget()

    seconds = budget.block(daily=True)

    assert seconds == DAY_BLOCK_SECONDS
    with pytest.raises(BudgetSpent) as caught:
        budget.acquire()
    assert (caught.value.daily, caught.value.retry_after) == (True, DAY_BLOCK_SECONDS)
    clock.advance(DAY_BLOCK_SECONDS)
    budget.acquire()


def test_the_budget_fails_open_while_the_cache_is_down(settings, clock):
    # A Redis cache with no server behind it: Freesound's own 429 still protects the key.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    settings.FREESOUND_RATE_PER_MINUTE = 1
    budget = default_budget()

    budget.block(daily=False)
    budget.acquire()
    budget.acquire()

    assert budget.remaining_today() == settings.FREESOUND_RATE_PER_DAY
    assert budget.blocked_for() == 0
