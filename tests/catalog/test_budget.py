"""The per-provider request budget, with an injected clock (no real waiting)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from catalog.budget import RequestBudget
from catalog.errors import RateLimited
from catalog.providers.deezer import DeezerProvider
from tests.conftest import FakeClock, free_port


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()


def test_budget_refuses_once_spent_and_says_when_to_retry():
    clock = FakeClock()
    budget = RequestBudget("deezer", limit=3, window=5, clock=clock)
    for _ in range(3):
        budget.acquire()

    with pytest.raises(RateLimited) as caught:
        budget.acquire()

    assert 1 <= caught.value.retry_after <= 6
    clock.now += caught.value.retry_after
    budget.acquire()  # free again after the advertised wait


def test_budget_never_allows_more_than_the_limit_in_any_window():
    clock = FakeClock()
    budget = RequestBudget("deezer", limit=50, window=5, clock=clock)
    allowed: list[float] = []
    for _ in range(3000):  # 30 simulated seconds of a caller trying every 10 ms
        try:
            budget.acquire()
            allowed.append(clock.now)
        except RateLimited:
            pass
        clock.now += 0.01

    busiest = max(sum(1 for t in allowed if start <= t < start + 5) for start in allowed)
    assert busiest <= 50
    assert len(allowed) >= 200  # and it does not starve the caller either


def test_budgets_are_per_provider():
    clock = FakeClock()
    RequestBudget("deezer", limit=1, window=5, clock=clock).acquire()

    RequestBudget("itunes", limit=1, window=5, clock=clock).acquire()


@pytest.mark.usefixtures("catalog_settings")
def test_deezer_client_stops_before_exceeding_its_budget(settings, fake_deezer):
    settings.CATALOG_RATE_LIMITS = {"deezer": [2, 5]}
    deezer = DeezerProvider()
    deezer.get_track("3135553")
    deezer.get_track("3135554")

    with pytest.raises(RateLimited) as caught:
        deezer.get_track("3135555")

    assert "Deezer is busy (rate limited, retry after" in str(caught.value)
    assert len(fake_deezer.calls("/track/")) == 2


def test_budget_fails_open_while_the_cache_is_down(settings):
    # A Redis cache with no server behind it: browsing goes on; the provider's own 429 still applies.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    budget = RequestBudget("deezer", limit=1, window=5, clock=FakeClock())

    budget.acquire()
    budget.acquire()

    assert budget.used() == 0
