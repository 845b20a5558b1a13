"""The Spotify client (spotipy with client credentials) against the fake Spotify server."""

from __future__ import annotations

import pytest

from catalog.errors import BadCredentials, NotFound, ProviderUnavailable, RateLimited
from catalog.providers import available_providers, get_provider
from catalog.providers.spotify import SpotifyProvider
from fakeapis.spotify import DAFT, DISCOVERY, ONE_MORE_TIME

pytestmark = pytest.mark.usefixtures("spotify_settings")


def test_with_keys_the_catalog_is_spotify():
    assert available_providers() == ["spotify", "deezer"]
    assert get_provider().name == "spotify"


def test_search_artists_respects_the_limit_of_ten_and_paginates():
    spotify = SpotifyProvider()

    first = spotify.search_artists("echo artist", limit=50)
    second = spotify.search_artists("echo artist", offset=first.next_offset, limit=50)

    assert (len(first.items), first.limit, first.total, first.next_offset) == (10, 10, 14, 10)
    assert len(second.items) == 4
    assert not second.has_more


def test_search_artist_picks_a_medium_picture():
    artist = SpotifyProvider().search_artists("daft punk").items[0]

    assert (artist.id, artist.name) == (DAFT, "Daft Punk")
    assert artist.image_url.endswith("/300.png")


def test_artist_albums_paginate_ten_at_a_time():
    spotify = SpotifyProvider()

    first = spotify.artist_albums(DAFT)
    second = spotify.artist_albums(DAFT, offset=first.next_offset)

    assert len(first.items) == 10
    assert first.total == 12
    assert len(second.items) == 2
    assert not second.has_more
    assert first.items[0].title == "Discovery"
    assert first.items[0].artist == "Daft Punk"


def test_album_tracks_and_album():
    spotify = SpotifyProvider()

    first = spotify.album_tracks(DISCOVERY, limit=2)
    rest = spotify.album_tracks(DISCOVERY, offset=first.next_offset)
    album = spotify.get_album(DISCOVERY)

    assert [t.title for t in first.items] == ["One More Time", "Harder, Better, Faster, Stronger"]
    assert first.items[0].duration_s == 320
    assert len(rest.items) == 3
    assert not rest.has_more
    assert (album.title, album.track_count) == ("Discovery", 5)


def test_get_track_has_isrc_and_no_preview():
    track = SpotifyProvider().get_track(ONE_MORE_TIME)

    assert (track.title, track.artist, track.album, track.isrc) == (
        "One More Time",
        "Daft Punk",
        "Discovery",
        "GBDUW0000053",
    )
    assert track.preview_url == ""


def test_token_is_requested_once_and_reused(fake_spotify):
    spotify = SpotifyProvider()

    spotify.get_track(ONE_MORE_TIME)
    spotify.get_album(DISCOVERY)

    assert len(fake_spotify.calls("/api/token")) == 1


def test_a_revoked_token_is_replaced_once(fake_spotify):
    spotify = SpotifyProvider()
    spotify.get_track(ONE_MORE_TIME)
    fake_spotify.tokens.clear()

    assert spotify.get_album(DISCOVERY).title == "Discovery"
    assert len(fake_spotify.calls("/api/token")) == 2


def test_429_surfaces_at_once_as_rate_limited_with_retry_after(fake_spotify):
    fake_spotify.answer_429(retry_after=86236, path="/v1/")

    with pytest.raises(RateLimited) as caught:
        SpotifyProvider().search_artists("daft")

    assert caught.value.retry_after == 86236
    assert "rate limited, retry after 86236 s" in str(caught.value)
    assert len(fake_spotify.calls("/v1/search")) == 1  # spotipy did not retry or sleep


def test_429_on_the_token_endpoint_is_rate_limited(fake_spotify):
    fake_spotify.answer_429(retry_after=30, path="/api/token")

    with pytest.raises(RateLimited) as caught:
        SpotifyProvider().search_artists("daft")

    assert caught.value.retry_after == 30


def test_wrong_credentials_are_bad_credentials(spotify_settings):
    from catalog.providers.spotify import _client

    spotify_settings.SPOTIFY_CLIENT_SECRET = "wrong"
    _client.cache_clear()

    with pytest.raises(BadCredentials) as caught:
        SpotifyProvider().search_artists("daft")

    assert "SPOTIFY keys" in str(caught.value)


def test_server_error_and_malformed_json_are_unavailable(fake_spotify):
    fake_spotify.answer_5xx(502, path="/v1/")
    with pytest.raises(ProviderUnavailable):
        SpotifyProvider().get_track(ONE_MORE_TIME)

    fake_spotify.answer_malformed_json(path="/v1/")
    with pytest.raises(ProviderUnavailable):
        SpotifyProvider().get_track(ONE_MORE_TIME)


def test_unknown_track_is_not_found():
    with pytest.raises(NotFound):
        SpotifyProvider().get_track("0TRACK0000000000000999")


def test_search_songs_finds_tracks_by_title_with_their_isrc_and_limit_of_ten():
    spotify = SpotifyProvider()

    found = spotify.search_songs("one more time", limit=50)
    many = spotify.search_songs("daft punk", limit=50)

    assert [t.title for t in found.items] == ["One More Time"]
    track = found.items[0]
    assert (track.id, track.isrc, track.artist, track.album) == (
        ONE_MORE_TIME,
        "GBDUW0000053",
        "Daft Punk",
        "Discovery",
    )
    assert track.has_preview is None  # Spotify does not say; Deezer or iTunes will
    assert (len(many.items), many.limit, many.next_offset) == (10, 10, 10)
