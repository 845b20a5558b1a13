"""Issue 24.5 in a real Chromium, at 1280 and 390 px: the result page shows the bar beside the
tempo, and "Play with the song" (a real Celery worker and Rubber Band) starts the loop on the
song's first downbeat, not its first beat, and every time round of a loop of whole bars on a "1"."""

from __future__ import annotations

import os
import shutil

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import Page
from pytest_django.live_server_helper import LiveServer

from fakeapis.freesound_catalogue import FreesoundCatalogue
from predictions.models import Prediction
from samples.models import GenreSearch
from samples.services import recommendations_create_for_prediction
from tests.accounts.factories import UserFactory
from tests.conftest import screenshot_at, sign_in
from tests.predictions.factories import DonePredictionFactory
from tests.samples.audio_gen import click_loop, wav_bytes
from tests.samples.browser import play_with_the_song
from tests.samples.conftest import add_loops, ensure_genre_searches

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [pytest.param(1280, id="1280"), pytest.param(390, id="390")]
SCREENSHOTS = os.environ.get("DOWNBEAT_SCREENSHOTS", "")  # a folder: save the pages there too

# A 96 BPM song whose beats were measured from 0.25 s, and whose first "1" is its third beat.
BEAT_S = 60 / 96
BEATS = [round(0.25 + i * BEAT_S, 4) for i in range(46)]
DOWNBEATS = BEATS[2::4]
LOOP_BEATS = 8  # two bars: 8 beats of a 124 BPM loop, stretched to 96 BPM


@pytest.fixture
def bar_page(page: Page, live_server: LiveServer, fs: FreesoundCatalogue, request: pytest.FixtureRequest):
    width = getattr(request, "param", 1280)
    page.set_viewport_size({"width": width, "height": 900})
    user = UserFactory(username=f"downbeats-{width}")
    sign_in(page.context, live_server.url, user)
    ensure_genre_searches()
    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    loops = add_loops(
        fs, "house", n=6, bpm=124, licence="by4", tonality="C minor", duration=LOOP_BEATS * 60 / 124
    )
    for loop in loops:  # previews as long as the loops say (the fake's own are 3 s)
        fs.set_preview(loop.id, wav_bytes(click_loop(124, LOOP_BEATS)))
    song = DonePredictionFactory(
        owner=user,
        source=Prediction.Source.UPLOAD,
        tempo_bpm=96.0,
        tempo_confidence=0.95,
        key="A minor",
        confidence=0.9,
        beat_times=BEATS,
        downbeat_times=DOWNBEATS,
        beats_per_bar=4,
    )
    song.upload.save("song.wav", ContentFile(wav_bytes(click_loop(96, 48))), save=True)
    assert recommendations_create_for_prediction(prediction=song)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(song.get_absolute_url())
    try:
        page.locator("[data-sample] .wave").first.wait_for()
    except Exception as exc:
        raise AssertionError(f"the sample browser did not start: {errors}") from exc
    return page, width, errors


def _shot(page: Page, name: str, at: str) -> None:
    screenshot_at(page, SCREENSHOTS, name, at)


@pytest.mark.parametrize("bar_page", WIDTHS, indirect=True)
def test_the_result_page_shows_the_bar_beside_the_tempo(bar_page):
    page, width, errors = bar_page
    bar = page.locator("#tempo-fact #bar-fact")
    assert bar.is_visible()
    assert bar.text_content() == "4 beats to the bar, the first “1” at 1.50 s"
    box, card = bar.bounding_box(), page.locator("#tempo-key").bounding_box()
    assert box is not None
    assert card is not None
    assert box["x"] + box["width"] <= card["x"] + card["width"]  # inside its card
    assert "loops start on the “1” at 1.50 s" in (page.locator("[data-grid-note]").text_content() or "")
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing overflows
    _shot(page, f"result-bar-{width}.png", "#tempo-key")
    assert errors == []


@pytest.mark.skipif(shutil.which("rubberband") is None, reason="needs rubberband-cli")
@pytest.mark.parametrize("bar_page", WIDTHS, indirect=True)
def test_play_with_the_song_starts_the_loop_on_a_downbeat(bar_page, filesystem_broker):
    page, width, errors = bar_page
    card = page.locator("[data-sample]").nth(0)
    status = play_with_the_song(page, card)
    assert status.get_attribute("data-kind") == "done", status.text_content()
    assert "locked to the song's beats, starting on the “1”" in (status.text_content() or "")

    song, render = page.locator(".track-head audio"), card.locator("audio[data-render]")
    # Loops are counted from the first downbeat (1.5 s), not the first beat (0.25 s).
    assert float(render.get_attribute("data-loop-origin") or "nan") == pytest.approx(DOWNBEATS[0], abs=0.001)
    loop_s = LOOP_BEATS * BEAT_S
    page.wait_for_function(
        "([s, r]) => !r.paused && s.currentTime > 0.3", arg=[song.element_handle(), render.element_handle()]
    )
    # The loop's first time round began on the first "1".
    assert float(render.get_attribute("data-loop-start") or "nan") == pytest.approx(DOWNBEATS[0], abs=0.001)

    # Its second time round, two bars later, on a "1" again; the sample plays in phase with it.
    page.wait_for_function(
        "([s, end]) => s.currentTime > end + 0.3", arg=[song.element_handle(), DOWNBEATS[0] + loop_s]
    )
    song_time, render_time, paused, started = page.evaluate(
        "([s, r]) => [s.currentTime, r.currentTime, r.paused, Number(r.dataset.loopStart)]",
        [song.element_handle(), render.element_handle()],
    )
    assert not paused
    assert min(abs(started - downbeat) for downbeat in DOWNBEATS) < 0.001
    assert started == pytest.approx(DOWNBEATS[0] + loop_s, abs=0.001)
    expected = (song_time - started) % loop_s  # where in the loop the song's time puts it
    assert min(abs(render_time - expected), loop_s - abs(render_time - expected)) < 0.2
    _shot(page, f"play-with-song-bar-{width}.png", ".with-song-on")
    song.evaluate("a => a.pause()")
    assert errors == []
