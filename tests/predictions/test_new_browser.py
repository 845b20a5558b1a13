"""The New prediction page in a real Chromium against the fake Deezer: search, album, track."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Request

from predictions.models import Prediction
from tests.conftest import no_horizontal_overflow

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("catalog_settings", "filesystem_broker"),
]


def test_search_an_artist_open_an_album_and_pick_a_track(catalog_page, catalog_browser_user):
    page = catalog_page
    page.goto("/new/")
    page.evaluate("window.stillTheSamePage = true")  # gone if anything reloads the whole page

    page.get_by_label("Artist").fill("daft punk")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Daft Punk", exact=True).click()
    page.get_by_role("heading", name="Daft Punk", exact=True).wait_for()  # the search's songs link albums too
    page.get_by_role("link", name=re.compile(r"^Discovery")).click()
    page.get_by_role("heading", name="Discovery").wait_for()

    assert page.evaluate("window.stillTheSamePage") is True  # htmx swapped the fragments
    assert "/new/album/deezer/302127/" in page.url  # and kept the address bar in step
    row = page.get_by_role("listitem").filter(has_text="One More Time")
    assert row.get_by_text("5:20").is_visible()
    preview = page.request.get(row.locator("audio").get_attribute("src"))
    assert preview.ok
    assert preview.body()[:4] == b"RIFF"

    row.get_by_role("button", name="Use One More Time").click()
    page.wait_for_url(re.compile(r"/predictions/\d+/$"))

    prediction = Prediction.objects.get(owner=catalog_browser_user)
    assert (prediction.source, prediction.source_track_id, prediction.isrc) == (
        "deezer",
        "3135553",
        "GBDUW0000053",
    )
    assert page.url.endswith(f"/predictions/{prediction.pk}/")


def test_the_same_flow_works_without_javascript(catalog_page_without_js, catalog_browser_user):
    page = catalog_page_without_js
    page.goto("/new/")

    page.get_by_label("Artist").fill("daft punk")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Daft Punk", exact=True).click()
    page.get_by_role("heading", name="Daft Punk", exact=True).wait_for()  # the search's songs link albums too
    page.get_by_role("link", name=re.compile(r"^Discovery")).click()
    page.get_by_role("button", name="Use Aerodynamic").click()
    page.wait_for_url(re.compile(r"/predictions/\d+/$"))

    assert Prediction.objects.get(owner=catalog_browser_user).title == "Aerodynamic"


def test_upload_tab_rejects_a_file_that_is_not_audio(catalog_page, tmp_path):
    fake = tmp_path / "song.mp3"
    fake.write_text("<html>this is not a song</html>" * 10)
    page = catalog_page
    page.goto("/new/")

    page.get_by_role("tab", name="Upload a file").click()
    assert page.get_by_text("up to 25.0").is_visible()
    page.get_by_label("Audio file").set_input_files(str(fake))
    page.get_by_role("button", name="Upload and analyse").click()

    assert page.get_by_role("alert").filter(has_text="is not an audio file Seven/Four can read").is_visible()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_file_over_the_limit_is_refused_in_the_browser_before_it_is_sent(
    browser_as, catalog_browser_user, settings, tmp_path, width
):
    settings.UPLOAD_MAX_BYTES = 100_000
    big = tmp_path / "bounce.wav"
    big.write_bytes(b"RIFF" + b"\x00" * 150_000)
    page = browser_as(catalog_browser_user, width=width)
    sent: list[str] = []

    def note_if_posted(request: Request) -> None:
        if request.method == "POST":
            sent.append(request.url)

    page.on("request", note_if_posted)
    page.goto("/new/?tab=upload")

    page.get_by_label("Audio file").set_input_files(str(big))
    alert = page.get_by_role("alert").filter(has_text="the limit is 97.7")
    alert.wait_for()
    page.get_by_role("button", name="Upload and analyse").click()

    assert "This file is 146.5\xa0KB" in alert.inner_text()
    assert "Export a shorter excerpt (30 seconds are enough) or an MP3" in alert.inner_text()
    assert alert.is_visible()
    assert sent == []  # nothing was uploaded
    assert not Prediction.objects.exists()
    assert no_horizontal_overflow(page)


@pytest.mark.parametrize("width", [1280, 390])
def test_without_javascript_the_server_answers_an_oversized_upload_with_the_form(
    browser_as, catalog_browser_user, settings, tmp_path, width
):
    settings.UPLOAD_MAX_BYTES = 100_000
    big = tmp_path / "bounce.wav"
    big.write_bytes(b"RIFF" + b"\x00" * 300_000)
    page = browser_as(catalog_browser_user, width=width, java_script_enabled=False)
    page.goto("/new/?tab=upload")

    page.get_by_label("Audio file").set_input_files(str(big))
    page.get_by_role("button", name="Upload and analyse").click()

    alert = page.get_by_role("alert").filter(has_text="the limit is 97.7")
    assert alert.is_visible()
    assert "Export a shorter excerpt" in alert.inner_text()
    assert page.get_by_label("Audio file").is_visible()  # the form, ready for another file
    assert not Prediction.objects.exists()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_track_without_a_preview_shows_why_it_cannot_be_used(browser_as, catalog_browser_user, width):
    page = browser_as(catalog_browser_user, width=width)
    page.goto("/new/album/deezer/302127/")

    row = page.get_by_role("listitem").filter(has_text="Veridis Quo")
    reason = row.get_by_text("No preview on Deezer: upload the audio instead.")

    assert reason.is_visible()
    assert row.get_by_role("button", name="Use Veridis Quo").is_disabled()
    assert page.get_by_role("listitem").filter(has_text="One More Time").get_by_role("button").is_enabled()
    assert no_horizontal_overflow(page)


@pytest.mark.parametrize("width", [1280, 390])
def test_search_a_song_by_its_title_and_use_it_from_the_results(browser_as, catalog_browser_user, width):
    page = browser_as(catalog_browser_user, width=width)
    page.goto("/new/")

    page.get_by_label("Artist or song").fill("daft punk")
    page.get_by_role("button", name="Search").click()
    rows = page.locator(".search-result")
    rows.first.wait_for()
    assert rows.first.inner_text().startswith("Daft Punk\nARTIST")  # the artist named so, first
    assert page.get_by_role("button", name="Use One More Time").is_visible()  # and their songs, same list
    assert no_horizontal_overflow(page)

    page.get_by_label("Artist or song").fill("digital love")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("heading", name="Songs and artists matching “digital love”").wait_for()
    assert rows.count() == 1
    assert no_horizontal_overflow(page)
    page.get_by_role("button", name="Use Digital Love").click()
    page.wait_for_url(re.compile(r"/predictions/\d+/$"))

    assert Prediction.objects.get(owner=catalog_browser_user).title == "Digital Love"
