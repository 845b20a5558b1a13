"""The demo providers speak the real APIs' JSON, so the site's own clients read them unchanged."""

from __future__ import annotations

import io

import numpy as np
import pytest
import requests
import soundfile as sf

from catalog.providers.deezer import DeezerProvider
from demo.content import catalog, library
from samples import freesound

pytestmark = pytest.mark.usefixtures("demo_settings")


def _provider():
    return DeezerProvider()


def test_the_site_deezer_client_browses_every_demo_artist_album_and_track():
    deezer = _provider()
    for artist in catalog().artists:
        found = deezer.search_artists(artist.name.lower())
        assert [a.name for a in found.items] == [artist.name]
        albums = deezer.artist_albums(found.items[0].id).items
        expected = [a for a in catalog().albums if a.artist_id == artist.id]
        assert {a.title for a in albums} == {a.title for a in expected}
        for album in albums:
            tracks = deezer.album_tracks(album.id).items
            assert tracks
            assert all(t.duration_s and t.duration_s >= 150 for t in tracks)


def test_a_track_preview_is_thirty_seconds_of_rendered_music(tmp_path):
    from catalog.download import download_preview

    track = next(t for t in catalog().tracks if t.genre == "jazz")
    url = _provider().preview_url(str(track.id))
    path = download_preview(url, tmp_path / "preview.mp3")  # the site's own safe downloader

    audio, sr = sf.read(path)
    assert len(audio) / sr == pytest.approx(30.0, abs=0.2)
    assert abs(audio).max() > 0.5


def test_the_site_freesound_client_finds_loops_with_bpm_key_and_licence():
    page = freesound.search(query="house loop", filter="tag:loop", page_size=150)

    assert page.count >= 5
    sound = page.results[0]
    assert sound.bpm
    assert sound.username
    assert sound.license.startswith(("http://creativecommons.org/", "https://creativecommons.org/"))
    preview = requests.get(sound.preview_hq_mp3, timeout=30)
    assert preview.ok
    described = next(s for s in library() if s.id == sound.id)
    audio, sr = sf.read(io.BytesIO(preview.content))
    assert len(audio) / sr == pytest.approx(described.duration, abs=0.1)


def test_only_the_demo_key_is_accepted(settings):
    settings.FREESOUND_API_KEY = "someone-elses-key"
    with pytest.raises(freesound.BadCredentials):
        freesound.search(query="house loop", page_size=5)


def test_a_sound_has_a_waveform_drawn_from_its_audio_and_a_page_that_says_it_is_a_demo():
    sound = freesound.search(query="rock loop", filter="tag:loop", page_size=1).results[0]

    image = requests.get(sound.images["waveform_m"], timeout=30)
    assert image.ok
    assert image.content.startswith(b"\x89PNG")
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(image.content)).convert("RGB"))
    assert pixels.shape == (60, 240, 3)
    ink_per_column = (pixels != pixels[0, 0]).any(axis=2).sum(axis=0)
    assert len(set(ink_per_column.tolist())) > 5  # an envelope that moves, not a blank square

    page = requests.get(sound.url, timeout=30)
    assert page.ok
    assert sound.url.startswith("http://127.0.0.1:")
    assert "demo sound" in page.text
    assert sound.name in page.text
