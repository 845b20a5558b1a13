"""In a real Chromium at 1280 and 390 px: the user takes back each of their corrections (issue 26,
point 2). "Back to the model's genre" used to post the genre select with it and was always refused."""

from __future__ import annotations

import re

import pytest

from predictions.labels import prediction_labels
from tests.accounts.factories import UserFactory
from tests.conftest import no_horizontal_overflow
from tests.predictions.factories import CorrectedPredictionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_take_back_the_genre_the_tempo_and_the_key(browser_as, enqueued, width):
    user = UserFactory(username="melody")
    prediction = CorrectedPredictionFactory(owner=user)
    page = browser_as(user, width=width)
    page.goto(prediction.get_absolute_url())
    assert "This is Rock" in page.locator("#genre-choice").inner_text()
    assert no_horizontal_overflow(page)

    page.get_by_role("button", name="Back to the model's genre").click()
    page.get_by_text("Now using genre Dance").wait_for()
    assert page.locator("#correction-error").count() == 0
    assert page.locator("#genre-choice").count() == 0
    assert page.get_by_label("Not right? This is").input_value() == ""

    page.get_by_role("button", name=re.compile(r"Back to the estimate \(96 BPM\)")).click()
    page.get_by_text("Now using tempo 96 BPM").wait_for()
    assert page.locator("#tempo-fact .fact-value").inner_text() == "96 BPM"
    assert page.locator("#tempo-fact").get_by_text("unsure").is_visible()

    page.get_by_role("button", name=re.compile(r"Back to the estimate \(A minor\)")).click()
    page.get_by_text("Now using key A minor").wait_for()
    assert page.locator("#key-fact .fact-value").inner_text() == "A minor"
    assert page.get_by_text("set by you").count() == 0
    assert no_horizontal_overflow(page)

    prediction.refresh_from_db()
    assert (prediction.user_tempo_bpm, prediction.user_key, prediction.user_genre) == (None, "", "")
    labels = prediction_labels(prediction)
    assert (labels.genre_source, labels.tempo_source, labels.key_source) == ("", "estimate", "estimate")
    assert enqueued == [prediction.pk] * 3  # the samples were found again after each
