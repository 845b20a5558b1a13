"""The recommendations include as the result page shows it."""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from samples.freesound import BadCredentials, MissingApiKey
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


def test_cards_say_in_tempo_half_time_and_key_relations_and_the_header_counts_them(fs, prediction, render):
    """The song is at 124 BPM in A minor (tolerance 6): the labels are the truth about each loop."""
    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    for bpm, tonality, name in [
        (124, "A minor", "same"),
        (126, "C major", "relative"),
        (62, "E minor", "half"),
        (248, "A major", "double"),
        (135, "F# major", "off"),
    ]:
        fs.add_sound(f"house loop {name}", username=name, tags=("house", "loop"), bpm=bpm, tonality=tonality)
    recommendations_create_for_prediction(prediction=prediction)

    html = render(prediction)
    cards = {
        card.split('title="')[1].split('"')[0]: card for card in html.split('<li class="sample-card')[1:]
    }

    assert "in tempo" in cards["house loop same"]
    assert "same key" in cards["house loop same"]
    assert "in tempo" in cards["house loop relative"]
    assert "relative key" in cards["house loop relative"]
    assert "half-time" in cards["house loop half"]
    assert "in tempo" not in cards["house loop half"]
    assert "a fifth up" in cards["house loop half"]
    assert "double-time" in cards["house loop double"]
    assert "other key" in cards["house loop double"]
    assert "in tempo" not in cards["house loop off"]
    assert "fits" not in html
    assert "Near 124 BPM: <strong>2 of 5 in tempo</strong>, 2 half- or double-time." in html
    assert "In A minor: <strong>3 in a key that mixes</strong> (1 in the same key)." in html


def test_the_header_follows_the_users_correction(fs, prediction, render, db):
    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    add_loops(fs, "house", n=5, bpm=124, tonality="A minor")
    recommendations_create_for_prediction(prediction=prediction)
    prediction.user_tempo_bpm, prediction.user_key = 62.0, "C major"

    html = render(prediction)

    assert "Near 62 BPM (set by you): <strong>0 of 5 in tempo</strong>, 5 half- or double-time." in html
    assert "In C major (set by you): <strong>5 in a key that mixes</strong> (0 in the same key)." in html
    assert html.count(">double-time<") == 5


# --- No Freesound key (issue 26.7) ---------------------------------------------------------------


def test_without_a_key_the_buttons_that_would_do_nothing_are_off_and_the_key_url_is_a_link(
    prediction, render, settings
):
    settings.FREESOUND_API_KEY = ""
    samples_message_set(prediction=prediction, message=str(MissingApiKey()))

    html = render(prediction)

    assert "Samples are off on this site." in html
    assert html.count("No FREESOUND_API_KEY is configured") == 1  # the note, not the message again
    assert '<a href="https://freesound.org/apiv2/apply"' in html
    assert re.search(r'<button type="submit" class="button button-ghost" disabled[^>]*>More like these', html)
    assert re.search(r"<button[^>]* disabled[^>]*>Also include non-commercial", html)


def test_with_a_key_the_buttons_work_and_nothing_says_samples_are_off(fs, prediction, render):
    html = render(prediction)

    assert "Samples are off" not in html
    assert " disabled" not in html


def test_a_rejected_keys_message_links_to_where_keys_are_made(fs, prediction, render):
    samples_message_set(prediction=prediction, message=str(BadCredentials()))

    assert '<a href="https://freesound.org/apiv2/apply"' in render(prediction)


def test_the_new_page_says_samples_are_off_before_a_song_is_submitted(client, user, settings):
    client.force_login(user)
    settings.FREESOUND_API_KEY = ""
    off = client.get("/new/").content.decode()
    settings.FREESOUND_API_KEY = "a-key"
    on = client.get("/new/").content.decode()

    assert "Samples are off on this site." in off
    assert '<a href="https://freesound.org/apiv2/apply"' in off
    assert "Samples are off" not in on
