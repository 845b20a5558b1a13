"""pytest fixtures for the fake provider servers.

Each server starts once per test session on a free port and is reset before every test that uses
it. `catalog_settings` points the site's settings at the fakes (Deezer, iTunes; Spotify off);
`spotify_settings` turns Spotify on with the fake's credentials.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .deezer import FakeDeezer
from .freesound import FakeFreesound
from .itunes import FakeItunes
from .spotify import CLIENT_ID, CLIENT_SECRET, FakeSpotify


def _serve(server_class):
    server = server_class().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _fake_deezer_server() -> Iterator[FakeDeezer]:
    yield from _serve(FakeDeezer)


@pytest.fixture(scope="session")
def _fake_spotify_server() -> Iterator[FakeSpotify]:
    yield from _serve(FakeSpotify)


@pytest.fixture(scope="session")
def _fake_itunes_server() -> Iterator[FakeItunes]:
    yield from _serve(FakeItunes)


@pytest.fixture(scope="session")
def _fake_freesound_server() -> Iterator[FakeFreesound]:
    yield from _serve(FakeFreesound)


@pytest.fixture
def fake_deezer(_fake_deezer_server: FakeDeezer) -> FakeDeezer:
    _fake_deezer_server.reset()
    return _fake_deezer_server


@pytest.fixture
def fake_spotify(_fake_spotify_server: FakeSpotify) -> FakeSpotify:
    _fake_spotify_server.reset()
    return _fake_spotify_server


@pytest.fixture
def fake_itunes(_fake_itunes_server: FakeItunes) -> FakeItunes:
    _fake_itunes_server.reset()
    return _fake_itunes_server


@pytest.fixture
def fake_freesound(_fake_freesound_server: FakeFreesound) -> FakeFreesound:
    _fake_freesound_server.reset()
    return _fake_freesound_server


@pytest.fixture
def catalog_settings(settings, fake_deezer: FakeDeezer, fake_itunes: FakeItunes):
    """The catalog as with no keys configured: Deezer, plus iTunes as the last preview fallback."""
    from django.core.cache import cache

    settings.DEEZER_API_URL = fake_deezer.url
    settings.ITUNES_API_URL = fake_itunes.url
    settings.SPOTIFY_CLIENT_ID = ""
    settings.SPOTIFY_CLIENT_SECRET = ""
    settings.PREVIEW_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.PREVIEW_ALLOW_LOOPBACK = True
    # Short timeouts keep the "slow server" tests short; the fakes answer in milliseconds otherwise.
    settings.CATALOG_READ_TIMEOUT = 1.0
    settings.PREVIEW_READ_TIMEOUT = 1.0
    cache.clear()  # catalog pages and request budgets live in the cache
    return settings


@pytest.fixture
def spotify_settings(catalog_settings, fake_spotify: FakeSpotify):
    from catalog.providers.spotify import _client

    catalog_settings.SPOTIFY_CLIENT_ID = CLIENT_ID
    catalog_settings.SPOTIFY_CLIENT_SECRET = CLIENT_SECRET
    catalog_settings.SPOTIFY_API_URL = fake_spotify.api_url
    catalog_settings.SPOTIFY_TOKEN_URL = fake_spotify.token_url
    _client.cache_clear()  # a fresh client: its in-memory token belongs to this configuration
    yield catalog_settings
    _client.cache_clear()
