"""The recommendations include as the result page shows it."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from samples.models import GenreSearch
from samples.services import recommendations_create_for_prediction, samples_message_set
from tests.samples.conftest import add_loops


@pytest.fixture
def render(user):
    def _render(prediction) -> str:
        request = RequestFactory().get(prediction.get_absolute_url())
        request.user = user
        return render_to_string(
            "samples/includes/recommendations.html", {"prediction": prediction}, request=request
        )

    return _render


def test_five_cards_with_everything_a_card_needs(fs, prediction, render):
    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    add_loops(fs, "house", n=10, bpm=124, licence="by4", tonality="A minor")
    recs = recommendations_create_for_prediction(prediction=prediction)

    html = render(prediction)

    assert html.count('class="sample-card') == 5
    sound = recs[0].sound
    for part in (
        sound.name,
        sound.author,
        "CC BY 4.0",
        "124 BPM",
        "A minor",
        sound.preview_url,
        sound.page_url,
        sound.image_url,
    ):
        assert part in html
    assert f"Credit: “{sound.name}” by {sound.author}" in html
    assert html.count("<audio") == 5
    assert html.count("Save to pack") == 5
    assert "More like these" in html


def test_message_when_there_are_no_samples(prediction, render, db):
    samples_message_set(
        prediction=prediction, message="No FREESOUND_API_KEY is configured; ask the admin to add one."
    )

    html = render(prediction)

    assert "No FREESOUND_API_KEY is configured" in html
    assert "sample-card" not in html


def test_says_when_the_second_genre_is_mixed_in(fs, prediction, render):
    from predictions.models import Prediction

    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    GenreSearch.objects.filter(slug="electronica").update(queries="synth loop")
    add_loops(fs, "house", n=8)
    add_loops(fs, "synth", n=8)
    Prediction.objects.filter(pk=prediction.pk).update(
        confidence=0.4, genre_scores={"dance": 0.4, "electronica": 0.35, "pop": 0.25}
    )
    prediction.refresh_from_db()
    recommendations_create_for_prediction(prediction=prediction)

    html = render(prediction)

    assert "The model is unsure" in html
    assert "Electronica" in html


def test_throttled_prediction_page_says_why_and_when(fs, prediction, render):
    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    fs.throttle(times=3)

    recommendations_create_for_prediction(prediction=prediction)
    html = render(prediction)

    assert "Freesound is busy" in html
    assert "UTC" in html
    assert "sample-card" not in html
