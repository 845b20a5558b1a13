"""The sample browser in a real Chromium, at 1280 and 390 px: one transport, keyboard shortcuts,
"Play with the song" through a real Celery worker and Rubber Band, and downloads that arrive."""

from __future__ import annotations

import io
import os
import re
import shutil

import pytest
import soundfile as sf
from django.core.files.base import ContentFile
from playwright.sync_api import ConsoleMessage, Locator, Page
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from fakeapis.freesound_catalogue import FreesoundCatalogue
from predictions.models import Prediction
from samples.models import ConformedRender, GenreSearch, Pack
from samples.services import recommendations_create_for_prediction
from tests.accounts.factories import UserFactory
from tests.conftest import screenshot_at, sign_in
from tests.predictions.factories import DonePredictionFactory
from tests.samples.audio_gen import click_loop, wav_bytes
from tests.samples.browser import play_with_the_song
from tests.samples.conftest import add_loops, ensure_genre_searches

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [pytest.param(1280, id="1280"), pytest.param(390, id="390")]
SCREENSHOTS = os.environ.get("SAMPLE_BROWSER_SCREENSHOTS", "")  # a folder: save the pages there too


@pytest.fixture
def song_page(
    page: Page, live_server: LiveServer, fs: FreesoundCatalogue, request: pytest.FixtureRequest
) -> tuple[Page, User, Prediction, int]:
    """A signed-in user's finished upload (a 96 BPM click track, A minor) with five 124 BPM loops
    in C minor, on its result page at the width the test asks for."""
    width = getattr(request, "param", 1280)
    page.set_viewport_size({"width": width, "height": 900})
    user = UserFactory(username=f"sample-browser-{width}")
    sign_in(page.context, live_server.url, user)
    ensure_genre_searches()
    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    add_loops(fs, "house", n=8, bpm=124, licence="by4", tonality="C minor", duration=3.0)
    prediction = DonePredictionFactory(
        owner=user, source=Prediction.Source.UPLOAD, tempo_bpm=96.0, key="A minor", confidence=0.9
    )
    prediction.upload.save("song.wav", ContentFile(wav_bytes(click_loop(96, 48))), save=True)
    assert len(recommendations_create_for_prediction(prediction=prediction)) == 5
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def console_error(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", console_error)
    page.goto(prediction.get_absolute_url())
    try:
        page.locator("[data-sample] .wave").first.wait_for()
    except Exception as exc:
        raise AssertionError(f"the sample browser did not start: {errors}") from exc
    return page, user, prediction, width


def _playing(page: Page, selector: str, index: int = 0) -> bool:
    return page.locator(selector).nth(index).evaluate("a => !a.paused && !a.ended")


def _wait_playing(page: Page, locator: Locator) -> None:
    page.wait_for_function("a => !a.paused && a.currentTime > 0", arg=locator.element_handle())


def _shot(page: Page, name: str, at: str) -> None:
    screenshot_at(page, SCREENSHOTS, name, at)


@pytest.mark.parametrize("song_page", WIDTHS, indirect=True)
def test_starting_one_player_stops_the_others_and_loops_are_on(song_page):
    page, _, _, _ = song_page
    players = page.locator("[data-sample] audio")
    assert players.nth(0).evaluate("a => a.loop")  # loops loop by default

    players.nth(0).evaluate("a => a.play()")
    _wait_playing(page, players.nth(0))
    players.nth(1).evaluate("a => a.play()")
    _wait_playing(page, players.nth(1))
    assert not _playing(page, "[data-sample] audio", 0)

    song = page.locator(".track-head audio")
    song.evaluate("a => a.play()")
    _wait_playing(page, song)
    assert not _playing(page, "[data-sample] audio", 1)

    # The waveform's playhead moves, and a click on it seeks.
    players.nth(2).evaluate("a => a.play()")
    _wait_playing(page, players.nth(2))
    assert not _playing(page, ".track-head audio")
    wave = page.locator("[data-sample]").nth(2).locator(".wave")
    box = wave.bounding_box()
    wave.click(position={"x": box["width"] * 0.75, "y": box["height"] / 2})
    page.wait_for_function(
        "a => a.duration && a.currentTime / a.duration > 0.6", arg=players.nth(2).element_handle()
    )
    assert float(wave.get_attribute("aria-valuenow") or 0) >= 60


@pytest.mark.parametrize("song_page", WIDTHS, indirect=True)
def test_keyboard_moves_plays_and_saves_to_the_current_pack(song_page):
    page, user, _, _ = song_page
    Pack.objects.create(owner=user, name="Night drive")
    page.reload()
    page.locator("[data-sample] .wave").first.wait_for()
    page.locator("#samples-title").click()  # focus on the page, not in a field

    page.keyboard.press("j")
    cards = page.locator("[data-sample]")
    assert "is-current" in (cards.nth(0).get_attribute("class") or "")
    page.keyboard.press("ArrowDown")
    assert "is-current" in (cards.nth(1).get_attribute("class") or "")
    page.keyboard.press(" ")
    _wait_playing(page, cards.nth(1).locator("audio"))
    page.keyboard.press("k")  # moving while playing plays the next one
    _wait_playing(page, cards.nth(0).locator("audio"))
    assert not _playing(page, "[data-sample] audio", 1)
    page.keyboard.press(" ")
    page.wait_for_function("a => a.paused", arg=cards.nth(0).locator("audio").element_handle())

    # From a focused button (after using a card's controls) the keys still move.
    cards.nth(2).get_by_role("button", name="Play with the song").focus()
    page.keyboard.press("j")
    assert "is-current" in (cards.nth(3).get_attribute("class") or "")
    page.keyboard.press("k")
    page.keyboard.press("k")
    page.keyboard.press("k")
    assert "is-current" in (cards.nth(0).get_attribute("class") or "")

    page.keyboard.press("s")
    cards.nth(0).get_by_text("Saved to").wait_for()
    assert list(Pack.objects.get(owner=user, name="Night drive").sounds.all()) == [
        Prediction.objects.get(owner=user).recommendations.order_by("rank")[0].sound
    ]


@pytest.mark.skipif(shutil.which("rubberband") is None, reason="needs rubberband-cli")
@pytest.mark.parametrize("song_page", WIDTHS, indirect=True)
def test_play_with_the_song_starts_both_in_sync_and_loops(song_page, filesystem_broker, tmp_path):
    page, _, prediction, width = song_page
    card = page.locator("[data-sample]").nth(0)
    status = play_with_the_song(page, card)
    assert status.get_attribute("data-kind") == "done", status.text_content()
    text = status.text_content() or ""
    assert "Stretched 124 → 96 BPM, +2 semitones (to D minor" in text
    assert "a grid from 96 BPM" in text

    song, render = page.locator(".track-head audio"), card.locator("audio[data-render]")
    _wait_playing(page, song)
    _wait_playing(page, render)
    duration = render.evaluate("a => a.duration")
    assert duration == pytest.approx(6 * 60 / 96, abs=0.05)  # six beats of the loop at 96 BPM
    # Past the loop's length, the sample is still playing from its start again, on the song's grid.
    page.wait_for_function("([s, d]) => s.currentTime > d + 0.5", arg=[song.element_handle(), duration])
    song_time, render_time, paused = page.evaluate(
        "([s, r]) => [s.currentTime, r.currentTime, r.paused]",
        [song.element_handle(), render.element_handle()],
    )
    assert not paused
    expected = (song_time * 96 / 60) % 6 * 60 / 96
    assert min(abs(render_time - expected), duration - abs(render_time - expected)) < 0.2
    _shot(page, f"sample-browser-{width}.png", "#samples" if width > 600 else ".with-song-on")

    # The mix slider sets the sample's level.
    card.locator("[data-mix]").fill("30")
    assert render.evaluate("a => a.volume") == pytest.approx(0.3)

    # The song's own controls drive the pair: paused, the sample stops; played again, it follows.
    song.evaluate("a => a.pause()")
    page.wait_for_function("r => r.paused", arg=render.element_handle())
    song.evaluate("a => a.play()")
    _wait_playing(page, render)

    # Another sample stops the pair.
    other = page.locator("[data-sample]").nth(1).locator("audio")
    other.evaluate("a => a.play()")
    _wait_playing(page, other)
    assert page.evaluate("([s, r]) => s.paused && r.paused", [song.element_handle(), render.element_handle()])

    # The conformed WAV (already rendered: no second render) downloads as 44.1 kHz 16-bit.
    with page.expect_download() as info:
        card.get_by_role("link", name="In the song's tempo and key (WAV)").click()
    assert re.fullmatch(r"house_loop_\d+_96bpm_Dm\.wav", info.value.suggested_filename)
    path = tmp_path / "conformed.wav"
    info.value.save_as(path)
    details = sf.info(str(path))
    assert (details.samplerate, details.subtype) == (44100, "PCM_16")
    assert ConformedRender.objects.count() == 1


@pytest.mark.parametrize("song_page", WIDTHS, indirect=True)
def test_a_single_sample_download_arrives_named_for_a_daw(song_page, fs, tmp_path):
    page, _, _, _ = song_page
    card = page.locator("[data-sample]").nth(0)
    assert card.get_attribute("draggable") == "true"
    assert re.fullmatch(
        r"audio/mpeg:house_loop_\d+_124bpm_Cm\.mp3:/packs/sounds/\d+/original/",
        card.get_attribute("data-drag-url") or "",
    )
    # Dragged out, the card hands Chromium a DownloadURL of the file, absolute and named for a DAW.
    dropped = card.evaluate(
        """card => {
            const data = new DataTransfer();
            card.dispatchEvent(new DragEvent("dragstart", {bubbles: true, dataTransfer: data}));
            return data.getData("DownloadURL");
        }"""
    )
    assert re.fullmatch(
        rf"audio/mpeg:house_loop_\d+_124bpm_Cm\.mp3:{re.escape(page.url.split('/predictions')[0])}/packs/sounds/\d+/original/",
        dropped,
    )
    with page.expect_download() as info:
        card.get_by_role("link", name="Download MP3").click()
    assert re.fullmatch(r"house_loop_\d+_124bpm_Cm\.mp3", info.value.suggested_filename)
    path = tmp_path / "sample.mp3"
    info.value.save_as(path)
    audio, rate = sf.read(io.BytesIO(path.read_bytes()))
    assert rate > 0
    assert len(audio) / rate == pytest.approx(3.0, abs=0.15)


@pytest.mark.parametrize("song_page", WIDTHS, indirect=True)
def test_the_pack_page_has_the_same_browser_and_the_zip_options(song_page):
    page, user, prediction, width = song_page
    pack = Pack.objects.create(owner=user, name="Night drive")
    for rec in prediction.recommendations.order_by("rank")[:3]:
        pack.items.create(sound=rec.sound)
    page.goto(pack.get_absolute_url())
    page.locator("[data-sample] .wave").first.wait_for()
    rows = page.locator("[data-sample]")
    assert rows.count() == 3

    page.locator("h1").click()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press(" ")
    _wait_playing(page, rows.nth(1).locator("audio"))
    rows.nth(0).locator("audio").evaluate("a => a.play()")
    _wait_playing(page, rows.nth(0).locator("audio"))
    assert not _playing(page, "[data-sample] audio", 1)
    page.keyboard.press("s")
    rows.nth(0).get_by_text("Already in this pack.").wait_for()

    options = page.locator(".zip-options")
    assert options.get_by_label("Conformed (WAV)").is_visible()
    # Issue 26: labels short enough for a phone-wide select (the title alone when "Artist – Title" is long).
    assert prediction.title in options.get_by_label("Song to conform to").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing overflows
    _shot(page, f"pack-browser-{width}.png", "h1")
