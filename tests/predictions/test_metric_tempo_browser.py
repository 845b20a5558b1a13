"""In a real Chromium at 1280 and 390 px: an unsure tempo offers its ×2/3 reading (issue 24, item 4)
beside ×2 and ÷2; one click sets it as the user's tempo, exactly as the ×2 and ÷2 buttons do."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from predictions.models import Prediction
from tests.accounts.factories import UserFactory
from tests.conftest import no_horizontal_overflow
from tests.predictions.factories import DonePredictionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = os.environ.get("METRIC_TEMPO_SCREENSHOTS", "")  # a folder: save the tempo card there too


def _shot(page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.locator("#tempo-key").screenshot(path=str(Path(SCREENSHOTS) / name))


@pytest.mark.parametrize("width", [1280, 390])
def test_the_two_thirds_button_sets_the_tempo(browser_as, enqueued, width):
    user = UserFactory(username="melody")
    song = DonePredictionFactory(
        owner=user,
        tempo_bpm=96.0,
        tempo_confidence=0.2,
        tempo_alternative_bpm=192.0,
        tempo_metric_alternative_bpm=64.0,
    )
    page = browser_as(user, width=width)
    page.goto(song.get_absolute_url())

    tempo = page.locator("#tempo-fact")
    assert tempo.get_by_text("or 192 or 64 BPM?").is_visible()
    button = page.get_by_role("button", name="Set the tempo to ×2/3 of the estimate, 64 BPM")
    assert button.inner_text().split() == ["×2/3", "64"]  # as "×2 192": the factor, then the tempo
    assert no_horizontal_overflow(page)
    _shot(page, f"offered-{width}.png")

    button.click()
    tempo.get_by_text("set by you").wait_for()
    assert tempo.locator(".fact-value").inner_text() == "64 BPM"
    assert page.locator(".tempo-metric").count() == 0  # the estimate's readings give way to the user's
    assert page.get_by_role("button", name="Double the tempo to 128 BPM").is_visible()
    assert no_horizontal_overflow(page)
    _shot(page, f"set-{width}.png")
    song.refresh_from_db()
    assert (song.user_tempo_bpm, song.tempo_bpm) == (64.0, 96.0)
    assert enqueued == [song.pk]
    assert Prediction.objects.get(pk=song.pk).song_tempo_bpm == 64.0
