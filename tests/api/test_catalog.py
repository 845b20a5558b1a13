"""/api/v1/catalog/: artists, an artist's albums, an album's tracks; same providers and cache as the page."""

from __future__ import annotations

import pytest

from fakeapis.server import Fault
from tests.api.conftest import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog_settings")]

ARTISTS = "/api/v1/catalog/artists/"


def test_artist_search_returns_a_page_with_the_next_offset(api):
    body = api.get(ARTISTS, {"q": "echo artist"}).json()

    assert len(body["items"]) == 25
    assert body["items"][0]["provider"] == "deezer"
    assert body["next_offset"] == 25
    assert api.get(ARTISTS, {"q": "echo artist", "offset": 25}).json()["next_offset"] is None


def test_an_artists_albums_then_an_albums_tracks(api):
    albums = api.get("/api/v1/catalog/deezer/artists/27/albums/").json()
    tracks = api.get("/api/v1/catalog/deezer/albums/302127/tracks/").json()

    assert "Discovery" in [a["title"] for a in albums["items"]]
    first = tracks["items"][0]
    assert (first["provider"], first["id"], first["title"], first["artist"]) == (
        "deezer",
        "3135553",
        "One More Time",
        "Daft Punk",
    )
    assert (first["duration_s"], first["isrc"], first["track_number"]) == (320, "GBDUW0000053", 1)


def test_pages_come_from_the_cache_the_second_time(api, fake_deezer):
    api.get("/api/v1/catalog/deezer/albums/302127/tracks/")
    calls = len(fake_deezer.calls("/album/"))

    api.get("/api/v1/catalog/deezer/albums/302127/tracks/")

    assert len(fake_deezer.calls("/album/")) == calls


def test_a_search_without_a_query_names_the_field(api):
    error = assert_error(api.get(ARTISTS), 400, "invalid")

    assert error["field_errors"] == {"q": ["This field is required."]}


def test_an_offset_out_of_range_is_a_field_error(api):
    error = assert_error(api.get(ARTISTS, {"q": "daft", "offset": -1}), 400, "invalid")

    assert "offset" in error["field_errors"]


def test_an_unconfigured_provider_is_404_and_an_unknown_one_a_field_error(api):
    assert_error(api.get(ARTISTS, {"q": "daft", "provider": "spotify"}), 404, "not_found")
    assert_error(api.get(ARTISTS, {"q": "daft", "provider": "napster"}), 400, "invalid")


def test_an_unknown_artist_or_provider_is_404(api):
    assert_error(api.get("/api/v1/catalog/deezer/artists/abc/albums/"), 404, "not_found")
    assert_error(api.get("/api/v1/catalog/napster/albums/1/tracks/"), 404, "not_found")


def test_a_provider_rate_limit_is_429_with_retry_after(api, fake_deezer):
    fake_deezer.answer_error(code=4, message="Quota limit exceeded")

    response = api.get(ARTISTS, {"q": "daft"})

    assert_error(response, 429, "provider_rate_limited")
    assert response["Retry-After"].isdigit()


def test_a_broken_provider_is_503_with_advice(api, fake_deezer):
    fake_deezer.add_fault(Fault(500, b"down", times=5))

    error = assert_error(api.get(ARTISTS, {"q": "daft"}), 503, "provider_unavailable")

    assert "upload the audio" in error["message"]


def test_catalog_calls_are_throttled_per_user(api, rates):
    rates(catalog="2/min")

    statuses = [api.get(ARTISTS, {"q": "daft"}).status_code for _ in range(3)]
    response = api.get("/api/v1/catalog/deezer/artists/27/albums/")

    assert statuses == [200, 200, 429]
    assert_error(response, 429, "throttled")
    assert 0 < int(response["Retry-After"]) <= 60


def test_catalog_needs_authentication(anonymous):
    assert_error(anonymous.get(ARTISTS, {"q": "daft"}), 401, "not_authenticated")
