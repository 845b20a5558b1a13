"""The New prediction page: search, browse, pick, upload; with and without htmx."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fakeapis.spotify import DAFT, ONE_MORE_TIME

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog_settings")]

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="ada", password="a-long-pass-123")


def test_page_needs_login(client):
    response = client.get(reverse("predictions:new"))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_page_shows_both_tabs_and_the_upload_limits(signed_in):
    find = signed_in.get(reverse("predictions:new"))
    upload = signed_in.get(reverse("predictions:new") + "?tab=upload")

    assert "Find a song" in find.text
    assert "Upload a file" in find.text
    assert 'name="q"' in find.text
    assert "MP3, WAV, FLAC, OGG, M4A, AAC" in upload.text
    assert "up to 25.0\xa0MB" in upload.text


def test_search_lists_artists_with_pictures_and_links(signed_in, fake_deezer):
    response = signed_in.get(reverse("predictions:new"), {"q": "daft punk"})

    assert response.status_code == 200
    assert "Daft Punk Tribute Band" in response.text
    assert f'src="{fake_deezer.url}/images/artist/27/250x250.png"' in response.text
    assert reverse("predictions:new_artist", args=["deezer", "27"]) in response.text
    assert "<html" in response.text  # a whole page without htmx


def test_htmx_search_gets_only_the_browser_fragment(signed_in):
    response = signed_in.get(reverse("predictions:new"), {"q": "daft punk"}, **HTMX)

    assert response.text.lstrip().startswith('<div id="catalog-browser"')
    assert "Daft Punk" in response.text


def test_search_pages_through_results(signed_in):
    first = signed_in.get(reverse("predictions:new"), {"q": "echo artist"})
    second = signed_in.get(reverse("predictions:new"), {"q": "echo artist", "offset": "10"})

    assert "?offset=10&amp;q=echo+artist&amp;provider=deezer" in first.text
    assert "Echo Artist 11" in second.text
    assert "Echo Artist 10<" not in second.text
    assert "← Previous" in second.text


def results(html: str) -> list[str]:
    """(kind, title) of each row of the search results, in order."""
    import re

    rows = re.findall(
        r'<li class="search-result[^"]*">.*?<span class="result-title">(.*?)</span>.*?<span class="kind">(\w+)</span>',
        html,
        re.S,
    )
    return [f"{kind}: {title}" for title, kind in rows]


def test_a_song_title_finds_the_song_in_the_same_list_as_artists(signed_in):
    html = signed_in.get(reverse("predictions:new"), {"q": "one more time"}).text

    assert results(html) == ["Song: One More Time"]
    assert "Songs and artists matching “one more time”" in html
    assert 'aria-label="Use One More Time"' in html


def test_an_artists_name_lists_the_artist_first_then_their_songs_then_other_artists(signed_in):
    found = results(signed_in.get(reverse("predictions:new"), {"q": "daft punk"}).text)

    assert found[0] == "Artist: Daft Punk"
    assert "Song: One More Time" in found
    assert found[-1] == "Artist: Daft Punk Tribute Band"
    assert {row.split(":")[0] for row in found[1:-1]} == {"Song"}


def test_a_song_in_the_search_results_can_be_used_straight_away(signed_in):
    html = signed_in.get(reverse("predictions:new"), {"q": "aerodynamic"}).text

    assert results(html) == ["Song: Aerodynamic"]
    assert reverse("predictions:create_from_pick") in html
    assert 'name="track_id" value="3135554"' in html


@pytest.mark.usefixtures("spotify_settings")
def test_spotify_search_finds_songs_by_title_too(signed_in, fake_spotify):
    html = signed_in.get(reverse("predictions:new"), {"q": "harder better"}).text

    assert results(html) == ["Song: Harder, Better, Faster, Stronger"]
    searched = sorted(r.arg("type") for r in fake_spotify.calls("/v1/search"))
    assert searched == ["artist", "track"]


def test_artist_page_lists_albums(signed_in):
    response = signed_in.get(reverse("predictions:new_artist", args=["deezer", "27"]), {"q": "daft"})

    assert "Discovery" in response.text
    assert "2001 · Album" in response.text
    assert (
        reverse("predictions:new_album", args=["deezer", "302127"]) + "?artist=27&amp;q=daft" in response.text
    )


def test_album_page_lists_tracks_with_duration_play_and_pick(signed_in):
    response = signed_in.get(reverse("predictions:new_album", args=["deezer", "302127"]), {"artist": "27"})

    assert "One More Time" in response.text
    assert "5:20" in response.text
    assert f'src="{reverse("predictions:new_preview", args=["deezer", "3135553"])}"' in response.text
    assert 'name="track_id" value="3135553"' in response.text


def test_a_rate_limited_search_says_when_to_retry(signed_in, fake_deezer):
    fake_deezer.answer_429(retry_after=12)

    response = signed_in.get(reverse("predictions:new"), {"q": "daft"})

    assert response.status_code == 429
    assert "rate limited, retry after 12 s" in response.text


def test_an_htmx_error_is_answered_200_so_that_it_is_shown(signed_in, fake_deezer):
    fake_deezer.answer_5xx(503)

    response = signed_in.get(reverse("predictions:new"), {"q": "daft"}, **HTMX)

    assert response.status_code == 200
    assert "Deezer is not answering properly right now" in response.text


def test_an_unreachable_catalog_says_so_and_offers_upload(signed_in, settings):
    from tests.conftest import free_port

    settings.DEEZER_API_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there

    response = signed_in.get("/new/", {"q": "daft"})

    assert response.status_code == 503
    assert "Deezer cannot be reached from this server at all" in response.text
    assert "few minutes" not in response.text
    assert "Upload a file instead" in response.text


def test_spotify_is_not_offered_without_keys(signed_in):
    response = signed_in.get(reverse("predictions:new_artist", args=["spotify", DAFT]))

    assert response.status_code == 404


def test_preview_redirects_to_a_fresh_link(signed_in, fake_deezer):
    response = signed_in.get(reverse("predictions:new_preview", args=["deezer", "3135553"]))

    assert response.status_code == 302
    assert response["Location"].startswith(f"{fake_deezer.url}/preview/3135553.mp3?hdnea=")
    assert response["Cache-Control"] == "no-store"


def test_preview_of_a_track_without_one_says_so(signed_in):
    response = signed_in.get(reverse("predictions:new_preview", args=["deezer", "3135560"]))

    assert response.status_code == 404
    assert response.text == "This track has no preview; upload the audio instead."


@pytest.mark.usefixtures("spotify_settings")
def test_a_spotify_preview_still_gets_audio_through_deezer(signed_in, fake_deezer):
    response = signed_in.get(reverse("predictions:new_preview", args=["spotify", ONE_MORE_TIME]))

    assert response["Location"].startswith(f"{fake_deezer.url}/preview/3135553.mp3")


def test_the_upload_field_carries_the_limit_for_the_browser_check(signed_in, settings):
    settings.UPLOAD_MAX_BYTES = 1000

    html = signed_in.get(reverse("predictions:new"), {"tab": "upload"}).text

    assert 'data-max-bytes="1000"' in html
    assert "js/upload-size.js" in html


def test_a_track_without_a_preview_is_listed_but_cannot_be_picked(signed_in):
    album = signed_in.get(reverse("predictions:new_album", args=["deezer", "302127"])).text
    row = album[album.index("Veridis Quo") :]
    row = row[: row.index("</li>")]

    assert "No preview on Deezer: upload the audio instead." in row
    assert "disabled" in row
    assert reverse("predictions:create_from_pick") not in row
