"""Fixtures for the samples tests: the fake Freesound catalogue on a real socket, settings that
point at it, a movable clock for the request budget, and users, predictions and sounds."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest
from django.core.cache import cache

from fakeapis.freesound_catalogue import API_KEY, FreesoundCatalogue
from tests.conftest import FakeClock

# The samples stage follows a real prediction job: these fixtures drive one.
from tests.predictions.conftest import fake_predictor, text_upload, wav_upload  # noqa: F401
from tests.predictions.factories import DonePredictionFactory


@pytest.fixture(scope="session")
def _freesound_catalogue_server() -> Iterator[FreesoundCatalogue]:
    server = FreesoundCatalogue().start()
    yield server
    server.stop()


@pytest.fixture
def clock(clock: FakeClock, monkeypatch) -> FakeClock:
    """The shared clock (tests/conftest.py), also the one the Freesound budget reads."""
    monkeypatch.setattr("samples.budget.clock", clock)
    return clock


def ensure_genre_searches() -> None:
    """Re-run the seed migration's code: a transactional test elsewhere may have flushed its rows."""
    from django.apps import apps

    seed = importlib.import_module("samples.migrations.0002_seed_genre_searches").seed
    seed(apps, None)


@pytest.fixture
def genres(db) -> None:
    ensure_genre_searches()


@pytest.fixture
def fs(_freesound_catalogue_server: FreesoundCatalogue, settings, clock, genres) -> FreesoundCatalogue:
    """The fake Freesound, empty, with the site pointed at it and a fresh cache and budget."""
    server = _freesound_catalogue_server
    server.reset()
    settings.FREESOUND_API_URL = server.api_url
    settings.FREESOUND_API_KEY = API_KEY
    settings.PREVIEW_ALLOW_LOOPBACK = True
    settings.FREESOUND_PREVIEW_HOSTS = ["cdn.freesound.org"]
    settings.FREESOUND_READ_TIMEOUT = 2.0
    cache.clear()
    return server


@pytest.fixture
def prediction(user):
    """A finished dance prediction at 124 BPM in A minor, confident enough not to mix genres."""
    return DonePredictionFactory(
        owner=user,
        top_genre="dance",
        confidence=0.8,
        genre_scores={
            "dance": 0.8,
            "electronica": 0.1,
            "pop": 0.04,
            "rock": 0.02,
            "rnb": 0.02,
            "classical": 0.01,
            "shoegaze": 0.01,
        },
        tempo_bpm=124.0,
        key="A minor",
    )


def add_loops(
    fs: FreesoundCatalogue, word: str, *, n: int, bpm: int | None = 124, licence: str = "cc0", **kwargs
) -> list:
    """`n` loops that a search for "<word> loop" finds, each by its own author unless told otherwise."""
    sounds = []
    for i in range(n):
        options = {
            "username": f"{word}-author{i}",
            "licence": licence,
            "tags": (word, "loop"),
            "bpm": bpm,
            **kwargs,
        }
        sounds.append(fs.add_sound(f"{word} loop {i}", **options))
    return sounds


@pytest.fixture
def pack_of(fs, user):
    """A pack of `n` sounds that exist on the fake Freesound (licences CC BY 4.0 and CC0 alternately)."""
    from samples import freesound

    def build(n: int, name: str = "Night drive"):
        for i in range(n):
            fs.add_sound(
                f"pad {i}.wav",
                username=f"maker{i}",
                licence="by4" if i % 2 == 0 else "cc0",
                tags=("pad", "loop"),
                bpm=90,
            )
        from samples.packs import pack_add_sound, pack_create
        from samples.sounds import sound_upsert_many

        sounds = sound_upsert_many(results=freesound.search(query="pad", page_size=150).results)
        pack = pack_create(owner=user, name=name, notes="late night")
        for sound in sounds:
            pack_add_sound(pack=pack, sound=sound)
        return pack

    return build
