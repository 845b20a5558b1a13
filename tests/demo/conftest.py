"""The demo providers on free ports (the same classes `make demo` runs on its fixed ones), with the
full demo catalog and library; audio is rendered on first request into a temporary var folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from demo import config
from demo.providers import DemoDeezer, DemoFreesound, start


@pytest.fixture(scope="session")
def demo_providers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoDeezer, DemoFreesound]]:
    var_dir = tmp_path_factory.mktemp("demo-var")
    deezer, freesound = start(var_dir, config.Ports(web=0, deezer=0, freesound=0))
    yield deezer, freesound
    deezer.stop()
    freesound.stop()


@pytest.fixture
def demo_settings(settings, demo_providers):
    """The site's settings as demo/config.py's environment sets them, pointed at these ports."""
    from django.core.cache import cache

    from catalog.providers.spotify import _client

    deezer, freesound = demo_providers
    env = config.environment(
        settings.VAR_DIR, config.Ports(web=0, deezer=deezer.port, freesound=freesound.port)
    )
    settings.DEEZER_API_URL = env["DEEZER_API_URL"]
    settings.FREESOUND_API_URL = env["FREESOUND_API_URL"]
    settings.FREESOUND_API_KEY = env["FREESOUND_API_KEY"]
    settings.SPOTIFY_CLIENT_ID = env["SPOTIFY_CLIENT_ID"]
    settings.SPOTIFY_CLIENT_SECRET = env["SPOTIFY_CLIENT_SECRET"]
    settings.ITUNES_API_URL = env["ITUNES_API_URL"]
    settings.PREVIEW_ALLOWED_HOSTS = env["PREVIEW_ALLOWED_HOSTS"].split(",")
    settings.FREESOUND_PREVIEW_HOSTS = env["FREESOUND_PREVIEW_HOSTS"].split(",")
    settings.PREVIEW_ALLOW_LOOPBACK = env["PREVIEW_ALLOW_LOOPBACK"] == "1"
    settings.DEMO_MODE = True
    _client.cache_clear()
    cache.clear()
    return settings
