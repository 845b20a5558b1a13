"""The Freesound client against the fake server over real HTTP."""

from __future__ import annotations

import pytest

from fakeapis.freesound_catalogue import API_KEY
from samples import freesound
from samples.budget import default_budget
from tests.conftest import free_port
from tests.samples.conftest import add_loops


def test_search_sends_token_fields_and_parses_typed_results(fs):
    add_loops(fs, "house", n=2, bpm=124, tonality="A minor", pack_id=7)

    page = freesound.search(query="house loop", filter="tag:loop", page_size=500)

    request = fs.api_calls()[0]
    assert request.headers["Authorization"] == f"Token {API_KEY}"
    assert request.arg("page_size") == "150"  # clamped to Freesound's maximum
    assert set(request.arg("fields").split(",")) >= {
        "previews",
        "images",
        "bpm",
        "tonality",
        "license",
        "pack",
    }
    assert page.count == 2
    sound = page.results[0]
    assert isinstance(sound, freesound.FreesoundSound)
    assert sound.bpm == 124
    assert sound.tonality == "A minor"
    assert sound.preview_hq_mp3.endswith("-hq.mp3")
    assert sound.pack == "https://freesound.org/apiv2/packs/7/"


def test_identical_search_is_answered_from_the_cache(fs):
    add_loops(fs, "house", n=1)

    first = freesound.search(query="house loop", filter="tag:loop")
    second = freesound.search(query="house loop", filter="tag:loop")

    assert first == second
    assert len(fs.api_calls()) == 1


def test_with_the_cache_down_searches_still_answer_uncached(fs, settings):
    add_loops(fs, "house", n=1)
    settings.CACHES = {  # Redis with nothing listening: every read a miss, every write skipped
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }

    pages = [freesound.search(query="house loop", filter="tag:loop") for _ in range(2)]

    assert [page.count for page in pages] == [1, 1]
    assert len(fs.api_calls()) == 2


def test_missing_api_key_raises_before_any_request(fs, settings):
    settings.FREESOUND_API_KEY = ""

    with pytest.raises(freesound.MissingApiKey, match="FREESOUND_API_KEY"):
        freesound.search(query="house loop")
    assert fs.api_calls() == []


def test_bad_key_is_bad_credentials(fs, settings):
    settings.FREESOUND_API_KEY = "wrong"

    with pytest.raises(freesound.BadCredentials):
        freesound.search(query="house loop")


def test_429_is_throttled_and_blocks_further_requests(fs, clock):
    fs.throttle()

    with pytest.raises(freesound.Throttled) as first:
        freesound.search(query="house loop")
    with pytest.raises(freesound.Throttled):
        freesound.search(query="techno loop")

    assert first.value.retry_after == 60
    assert not first.value.daily
    assert len(fs.api_calls()) == 1  # the second was refused locally
    clock.advance(61)
    freesound.search(query="techno loop")
    assert len(fs.api_calls()) == 2


def test_daily_429_blocks_for_an_hour(fs):
    fs.throttle(daily=True)

    with pytest.raises(freesound.Throttled) as caught:
        freesound.search(query="house loop")

    assert caught.value.daily
    assert caught.value.retry_after == 3600


def test_5xx_and_timeouts_are_unavailable(fs, settings):
    fs.answer_5xx(503)
    with pytest.raises(freesound.Unavailable):
        freesound.search(query="house loop")

    settings.FREESOUND_READ_TIMEOUT = 0.2
    fs.answer_slowly(1.0)
    with pytest.raises(freesound.Unavailable):
        freesound.search(query="trance loop")


def test_sound_get_and_404(fs):
    sound = fs.add_sound("kick.wav", tags=("kick",), bpm=None)

    assert freesound.sound_get(sound_id=sound.id).name == "kick.wav"
    with pytest.raises(freesound.NotFound):
        freesound.sound_get(sound_id=999999)


def test_a_page_beyond_the_last_is_an_empty_page(fs):
    add_loops(fs, "house", n=2)

    page = freesound.search(query="house loop", page=5, page_size=2)

    assert page.results == []
    assert page.next is None


def test_budget_refuses_beyond_the_per_minute_limit_without_calling(fs, settings, clock):
    settings.FREESOUND_RATE_PER_MINUTE = 3

    for word in ("a", "b", "c"):
        freesound.search(query=word)
    with pytest.raises(freesound.Throttled) as caught:
        freesound.search(query="d")

    assert len(fs.api_calls()) == 3
    assert 1 <= caught.value.retry_after <= 61
    clock.advance(62)
    freesound.search(query="d")
    assert default_budget().used_last_minute() == 1


def test_budget_refuses_beyond_the_daily_limit(fs, settings, clock):
    settings.FREESOUND_RATE_PER_DAY = 4

    for i in range(4):
        freesound.search(query=f"q{i}")
        clock.advance(3600)  # spread over hours: never the minute limit
    with pytest.raises(freesound.Throttled) as caught:
        freesound.search(query="one more")

    assert caught.value.daily
    assert len(fs.api_calls()) == 4


@pytest.fixture
def cache_clock(monkeypatch):  # type: ignore[no-untyped-def]
    """Moves the clock the (locmem) cache reads to decide what has expired."""
    import time
    from types import SimpleNamespace

    now = [time.time()]
    fake = SimpleNamespace(time=lambda: now[0])
    monkeypatch.setattr("django.core.cache.backends.base.time", fake)
    monkeypatch.setattr("django.core.cache.backends.locmem.time", fake)
    return lambda seconds: now.__setitem__(0, now[0] + seconds)


def test_an_empty_search_is_cached_for_minutes_not_a_day(fs, cache_clock):
    assert freesound.search(query="house loop").results == []
    add_loops(fs, "house", n=1)  # uploaded to Freesound since

    cache_clock(5 * 60)
    assert freesound.search(query="house loop").results == []  # still the cached answer
    cache_clock(6 * 60)
    found = freesound.search(query="house loop").results

    assert [s.name for s in found] == ["house loop 0"]
    assert len(fs.api_calls()) == 2


def test_a_search_that_found_sounds_is_cached_for_a_day(fs, cache_clock):
    add_loops(fs, "house", n=1)
    freesound.search(query="house loop")

    cache_clock(23 * 60 * 60)
    freesound.search(query="house loop")

    assert len(fs.api_calls()) == 1
