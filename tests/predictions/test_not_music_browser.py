"""In a real Chromium at 1280 and 390 px: a result judged not music (issue 26, point 6) says so,
names no genre, gives the tempo no badge, shows a clear "no samples" state, and a user who knows
better can still name its genre."""

from __future__ import annotations

import pytest

from predictions.models import Prediction
from tests.accounts.factories import UserFactory
from tests.conftest import no_horizontal_overflow
from tests.predictions.factories import DonePredictionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_pink_noise_does_not_sound_like_music(browser_as, enqueued, width):
    user = UserFactory(username="melody")
    noise = DonePredictionFactory(
        owner=user,
        title="pink noise",
        sounds_like=Prediction.SoundsLike.NOISE,
        top_genre="rock",
        confidence=0.27,
        tempo_bpm=155.0,
        tempo_confidence=0.5,
        tempo_alternative_bpm=72.1,
        key="C major",
        key_confidence=0.7,
    )
    page = browser_as(user, width=width)
    page.goto(noise.get_absolute_url())

    verdict = page.locator("#not-music")
    assert verdict.is_visible()
    assert verdict.inner_text() == "This does not sound like music"
    assert page.get_by_text("It sounds like noise").is_visible()
    assert page.get_by_label("Genre probabilities").count() == 0
    assert page.locator("#tempo-fact .fact-value").inner_text() == "155 BPM"
    assert page.locator("#tempo-fact .confidence").count() == 0
    assert page.locator("#key-fact .confidence").count() == 0
    assert page.locator(".tempo-alternative").count() == 0
    samples = page.locator("#samples")
    assert samples.get_by_role("heading", name="No samples for audio that is not music").is_visible()
    assert page.locator(".sample-card").count() == 0
    assert no_horizontal_overflow(page)

    # The user knows better: naming a genre brings the samples back (their stage starts).
    page.get_by_label("Music after all? This is").select_option(label="Electronica")
    page.get_by_role("button", name="Set genre").click()
    page.locator("#genre-choice").get_by_text("set by you").wait_for()
    assert page.get_by_role("heading", name="No samples for audio that is not music").count() == 0
    assert no_horizontal_overflow(page)
    assert enqueued == [noise.pk]
