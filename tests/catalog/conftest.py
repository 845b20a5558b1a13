from __future__ import annotations

# The fake provider servers and the settings that point the site at them.
from tests.fakes.plugin import (  # noqa: F401
    _fake_deezer_server,
    _fake_freesound_server,
    _fake_itunes_server,
    _fake_spotify_server,
    catalog_settings,
    fake_deezer,
    fake_freesound,
    fake_itunes,
    fake_spotify,
    freesound_settings,
    spotify_settings,
)
