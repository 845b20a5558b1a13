"""The sample library and the pack page's rows in a real Chromium, at 1280 and 390 px: search, each
filter and each sort through the GET form (htmx swaps, the URL follows), the URL round trip, and a
pack's rows playing with the song each sound was saved from."""

from __future__ import annotations

import shutil
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from fakeapis.freesound import BY4, BYNC, CC0
from predictions.models import Prediction
from samples.models import GenreSearch, Pack
from samples.services import recommendations_create_for_prediction
from tests.accounts.factories import UserFactory
from tests.conftest import no_horizontal_overflow, sign_in
from tests.predictions.factories import DonePredictionFactory
from tests.samples.audio_gen import click_loop, wav_bytes
from tests.samples.browser import play_with_the_song
from tests.samples.conftest import add_loops, ensure_genre_searches
from tests.samples.factories import make_sound

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [pytest.param(1280, id="1280"), pytest.param(390, id="390")]


def _sounds() -> None:
    common = {"bpm": 124, "key": "A minor", "tags": ["bass", "loop"], "licence_url": BY4, "duration": 8.0}
    make_sound(1, name="Tech House Bassline 124 BPM A minor number 1", **common)
    make_sound(2, name="Tech House Bassline 124 BPM A minor number 2", **common)
    make_sound(3, name="Dusty kick", bpm=None, key="", tags=["kick", "drums"], licence_url=CC0, duration=0.5)
    make_sound(
        4, name="Warm pad", bpm=62, key="C major", tags=["pad", "loop"], licence_url=CC0, duration=20.0
    )
    make_sound(
        5, name="Odd synth", bpm=90, key="F# major", tags=["synth", "loop"], licence_url=BY4, duration=8.0
    )
    make_sound(6, name="Non-commercial loop", bpm=124, tags=["bass", "loop"], licence_url=BYNC)


@pytest.fixture
def library_page(page: Page, live_server: LiveServer, settings, request: pytest.FixtureRequest):
    width = request.param
    settings.FREESOUND_API_KEY = ""  # the index alone: the page says so
    page.set_viewport_size({"width": width, "height": 900})
    user = UserFactory(username=f"library-{width}")
    sign_in(page.context, live_server.url, user)
    song = DonePredictionFactory(owner=user, tempo_bpm=124.0, key="A minor")
    _sounds()
    page.goto(f"{live_server.url}/packs/predictions/{song.pk}/library/")
    return page, width


def _names(page: Page) -> list[str]:
    return [name.strip() for name in page.locator("li.sound-row .row-name").all_inner_texts()]


def _wait(page: Page, name: str, value: str | None) -> None:
    """Until the swap pushed the URL with `name` set to `value` (or without it) and settled."""

    def pushed(url: str) -> bool:
        values = parse_qs(urlparse(url).query, keep_blank_values=True).get(name, [])
        return value in values if value is not None else not values

    page.wait_for_url(pushed)
    expect(page.locator(".htmx-request")).to_have_count(0)
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("library_page", WIDTHS, indirect=True)
def test_search_filters_and_sorts_follow_the_url(library_page):
    page, width = library_page
    names = _names(page)
    assert len(names) == 5  # CC BY-NC only for users who opted in
    assert names[0] != names[1]  # two long names keep their distinguishing ends
    assert "From the local index only" in page.locator("#library-source").inner_text()
    assert no_horizontal_overflow(page), width

    page.get_by_placeholder("Search names and tags").fill("dusty")
    page.get_by_placeholder("Search names and tags").press("Enter")
    _wait(page, "q", "dusty")
    assert _names(page) == ["Dusty kick"]
    page.get_by_placeholder("Search names and tags").fill("")
    page.get_by_placeholder("Search names and tags").press("Enter")
    _wait(page, "q", "")

    page.locator(".facets").get_by_text("kick").click()  # the instrument facet, with its count
    _wait(page, "tag", "kick")
    assert _names(page) == ["Dusty kick"]
    page.locator(".facets").get_by_text("kick").click()
    _wait(page, "tag", None)

    page.locator("#id_kind").select_option("loop")
    _wait(page, "kind", "loop")
    assert "Dusty kick" not in _names(page)
    assert len(_names(page)) == 4

    page.locator("#fits-preset").click()  # one click: the song's tempo, or half or double it
    _wait(page, "fits", "1")
    assert sorted(_names(page))[-1] == "Warm pad"
    assert len(_names(page)) == 3

    page.locator("#id_key").select_option("same")
    _wait(page, "key", "same")
    assert len(_names(page)) == 2

    # The URL round trip: a fresh load of the pushed URL shows the same view and form state.
    url = page.url
    page.goto(url)
    assert page.locator("#id_kind").input_value() == "loop"
    assert page.locator("#id_key").input_value() == "same"
    assert page.locator("#id_fits").is_checked()
    assert len(_names(page)) == 2

    page.goto(url.split("?")[0])
    page.locator(".licences").get_by_text("CC0").click()
    _wait(page, "licence", "cc0")
    assert sorted(_names(page)) == ["Dusty kick", "Warm pad"]
    page.locator("#id_duration").select_option("short")
    _wait(page, "duration", "short")
    assert _names(page) == ["Dusty kick"]

    page.goto(url.split("?")[0] + "?bpm_min=80&bpm_max=100")
    assert _names(page) == ["Odd synth"]
    assert page.locator("#id_bpm_min").input_value() == "80"

    page.goto(url.split("?")[0])
    for sort, first in [
        ("newest", "Odd synth"),
        ("tempo", "Warm pad"),  # 62 BPM: exactly half the song's 124, the newest of the three at 0
        ("similar", "Odd synth"),  # no song vectors: newest
        ("fit", "Tech House Bassline…"),
    ]:
        page.locator("#id_sort").select_option(sort)
        _wait(page, "sort", sort)
        assert _names(page)[0].startswith(first.rstrip("…")), (sort, _names(page))
    assert no_horizontal_overflow(page), width


@pytest.fixture
def pack_page(page: Page, live_server: LiveServer, fs, request: pytest.FixtureRequest):
    """A pack of three loops saved from a finished 96 BPM upload (A minor)."""
    width = request.param
    page.set_viewport_size({"width": width, "height": 900})
    user = UserFactory(username=f"pack-rows-{width}")
    sign_in(page.context, live_server.url, user)
    ensure_genre_searches()
    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    add_loops(fs, "house", n=8, bpm=124, licence="by4", tonality="C minor", duration=3.0)
    song = DonePredictionFactory(
        owner=user, source=Prediction.Source.UPLOAD, tempo_bpm=96.0, key="A minor", confidence=0.9
    )
    song.upload.save("song.wav", ContentFile(wav_bytes(click_loop(96, 48))), save=True)
    assert len(recommendations_create_for_prediction(prediction=song)) == 5
    pack = Pack.objects.create(owner=user, name="Night drive")
    for rec in song.recommendations.order_by("rank")[:3]:
        pack.items.create(sound=rec.sound, song=song)
    page.goto(pack.get_absolute_url())
    page.locator("[data-sample] .wave").first.wait_for()
    return page, width, song


@pytest.mark.skipif(shutil.which("rubberband") is None, reason="needs rubberband-cli")
@pytest.mark.parametrize("pack_page", WIDTHS, indirect=True)
def test_pack_rows_play_with_the_song_they_were_saved_from(pack_page, filesystem_broker):
    page, width, song = pack_page
    rows = page.locator("li.sound-row[data-sample]")
    assert rows.count() == 3
    assert no_horizontal_overflow(page), width
    # The credit is behind the row's details.
    assert not rows.nth(0).get_by_text("Credit:").is_visible()
    rows.nth(0).locator("summary").click()
    assert rows.nth(0).get_by_text("Credit:").is_visible()

    # The keyboard transport moves over rows (the first is current since its details were opened).
    page.locator("h1").click()
    page.keyboard.press("j")
    assert "is-current" in (rows.nth(1).get_attribute("class") or "")
    page.keyboard.press(" ")
    page.wait_for_function("a => !a.paused", arg=rows.nth(1).locator("audio").element_handle())
    assert rows.nth(1).locator("[data-row-play]").get_attribute("aria-pressed") == "true"
    page.keyboard.press(" ")
    page.keyboard.press("s")
    rows.nth(1).get_by_text("Already in this pack.").wait_for()

    row = rows.nth(1)
    status = play_with_the_song(page, row)
    assert status.get_attribute("data-kind") == "done", status.text_content()
    assert "Stretched 124 → 96 BPM" in (status.text_content() or "")
    song_player = page.locator(f'audio[data-song-player][src="/predictions/{song.pk}/audio/"]')
    page.wait_for_function("a => !a.paused && a.currentTime > 0", arg=song_player.element_handle())
    page.wait_for_function(
        "a => !a.paused && a.currentTime > 0", arg=row.locator("audio[data-render]").element_handle()
    )
    assert no_horizontal_overflow(page), width
