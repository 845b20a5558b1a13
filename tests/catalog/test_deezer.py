"""The Deezer client against the fake Deezer server."""

from __future__ import annotations

import pytest
import requests

from catalog.errors import NotFound, ProviderUnavailable, ProviderUnreachable, RateLimited
from catalog.providers import available_providers, get_provider
from catalog.providers.deezer import DeezerProvider

pytestmark = pytest.mark.usefixtures("catalog_settings")


def test_without_keys_the_catalog_is_deezer():
    assert available_providers() == ["deezer"]
    assert get_provider().name == "deezer"


def test_search_artists_returns_artists_with_pictures():
    page = DeezerProvider().search_artists("daft punk")

    assert [a.name for a in page.items] == ["Daft Punk", "Daft Punk Tribute Band"]
    assert page.items[0].id == "27"
    assert page.items[0].image_url.endswith("/images/artist/27/250x250.png")
    assert not page.has_more


def test_search_artists_paginates_by_index():
    deezer = DeezerProvider()

    first = deezer.search_artists("echo artist")
    second = deezer.search_artists("echo artist", offset=first.next_offset)

    assert (len(first.items), first.total, first.next_offset) == (25, 30, 25)
    assert len(second.items) == 5
    assert not second.has_more
    assert {a.id for a in first.items}.isdisjoint(a.id for a in second.items)


def test_artist_albums_paginate():
    deezer = DeezerProvider()

    first = deezer.artist_albums("27")
    second = deezer.artist_albums("27", offset=first.next_offset)

    assert first.items[0].title == "Discovery"
    assert first.items[0].release_date == "2001-03-07"
    assert len(first.items) + len(second.items) == first.total == 29
    assert not second.has_more


def test_album_tracks_have_duration_and_isrc():
    tracks = DeezerProvider().album_tracks("302127").items

    assert tracks[0].title == "One More Time"
    assert tracks[0].duration_s == 320
    assert tracks[0].duration_label == "5:20"
    assert tracks[0].isrc == "GBDUW0000053"
    assert tracks[0].artist == "Daft Punk"


def test_album_tracks_paginate_with_a_small_limit():
    deezer = DeezerProvider()

    first = deezer.album_tracks("302127", limit=2)
    rest = deezer.album_tracks("302127", offset=first.next_offset, limit=10)

    assert [t.title for t in first.items] == ["One More Time", "Aerodynamic"]
    assert len(rest.items) == 3
    assert not rest.has_more


def test_get_track_and_album():
    deezer = DeezerProvider()

    track = deezer.get_track("3135556")
    album = deezer.get_album("302127")

    assert (track.title, track.album, track.isrc) == (
        "Harder Better Faster Stronger",
        "Discovery",
        "GBDUW0000059",
    )
    assert track.preview_url.startswith(deezer.base_url + "/preview/3135556.mp3?hdnea=exp=")
    assert (album.title, album.artist, album.track_count) == ("Discovery", "Daft Punk", 5)


def test_track_by_isrc():
    assert DeezerProvider().track_by_isrc("GBDUW0000059").id == "3135556"


def test_unknown_isrc_is_not_found_from_a_200_error_body():
    with pytest.raises(NotFound):
        DeezerProvider().track_by_isrc("ZZZZZ0000000")


def test_quota_error_body_is_rate_limited(fake_deezer):
    fake_deezer.answer_error(code=4, message="Quota limit exceeded")

    with pytest.raises(RateLimited) as caught:
        DeezerProvider().search_artists("daft")

    assert "rate limited, retry after 5 s" in str(caught.value)


def test_http_429_surfaces_at_once_with_retry_after(fake_deezer):
    fake_deezer.answer_429(retry_after=17)

    with pytest.raises(RateLimited) as caught:
        DeezerProvider().search_artists("daft")

    assert caught.value.retry_after == 17
    assert "rate limited, retry after 17 s" in str(caught.value)
    assert len(fake_deezer.calls("/search")) == 1  # no silent retry


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_unavailable(fake_deezer, status):
    fake_deezer.answer_5xx(status)

    with pytest.raises(ProviderUnavailable) as caught:
        DeezerProvider().get_track("3135553")

    assert "upload the audio" in str(caught.value)


def test_malformed_json_is_unavailable(fake_deezer):
    fake_deezer.answer_malformed_json()

    with pytest.raises(ProviderUnavailable):
        DeezerProvider().search_artists("daft")


def test_slow_answer_times_out_as_unavailable(fake_deezer):
    fake_deezer.answer_slowly(3.0)  # read timeout in catalog_settings: 1 s

    with pytest.raises(ProviderUnavailable):
        DeezerProvider().search_artists("daft")


def test_a_slow_or_failing_provider_is_not_called_unreachable(fake_deezer):
    fake_deezer.answer_slowly(3.0)

    with pytest.raises(ProviderUnavailable) as caught:
        DeezerProvider().search_artists("daft")

    assert not isinstance(caught.value, ProviderUnreachable)
    assert "Try again in a few minutes" in str(caught.value)


def test_no_connection_at_all_says_so_and_offers_upload_not_waiting(settings):
    """Issue 26.9: offline, the page suggested trying again in a few minutes."""
    from tests.conftest import free_port

    settings.DEEZER_API_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there

    with pytest.raises(ProviderUnreachable) as caught:
        DeezerProvider().search_artists("daft")

    message = str(caught.value)
    assert message.startswith("Deezer cannot be reached from this server at all")
    assert "Upload the audio instead" in message
    assert "minutes" not in message


def test_unknown_ids_are_not_found_without_a_request(fake_deezer):
    with pytest.raises(NotFound):
        DeezerProvider().get_track("../../etc/passwd")
    assert fake_deezer.calls() == []


def test_catalog_pages_are_cached_but_preview_links_are_not(fake_deezer):
    provider = get_provider("deezer")

    provider.album_tracks("302127")
    cached = provider.album_tracks("302127")
    first = provider.preview_url("3135553")
    provider.preview_url("3135553")

    assert len(fake_deezer.calls("/album/302127/tracks")) == 1
    assert all(t.preview_url == "" for t in cached.items)
    assert first
    assert len(fake_deezer.calls("/track/3135553")) == 2


def test_search_songs_finds_tracks_by_title_and_pages_them():
    deezer = DeezerProvider()

    found = deezer.search_songs("veridis quo")
    first = deezer.search_songs("live track", limit=10)
    second = deezer.search_songs("live track", offset=first.next_offset, limit=10)

    assert [(t.title, t.artist, t.album, t.has_preview) for t in found.items] == [
        ("Veridis Quo", "Daft Punk", "Discovery", False)
    ]
    assert (len(first.items), first.total, first.next_offset) == (10, 27, 10)
    assert second.items[0].title == "Live Track 11"


def test_pictures_of_neighbouring_albums_differ(fake_deezer):
    first, second = (
        requests.get(f"{fake_deezer.url}/images/album/{ident}/250x250.png", timeout=5) for ident in (1, 2)
    )
    assert first.headers["Content-Type"] == second.headers["Content-Type"] == "image/png"
    assert first.content != second.content
