"""The result under load: a finished song's poll stays small, cached panels follow every change to
what they show, each browser gets its own CSRF token in them, and an unchanged page answers 304."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from core.fragments import CSRF_PLACEHOLDER
from predictions.models import Prediction
from samples.models import Recommendation, RecommendationRun
from tests.predictions.factories import DonePredictionFactory
from tests.samples.factories import make_sound

pytestmark = pytest.mark.django_db


@pytest.fixture
def song(user):
    prediction = DonePredictionFactory(owner=user, tempo_bpm=124.0, tempo_confidence=0.8)
    RecommendationRun.objects.create(prediction=prediction, status=RecommendationRun.Status.DONE)
    Recommendation.objects.create(prediction=prediction, sound=make_sound(1, name="dusty kick.wav"), rank=0,
                                  genre="dance")  # fmt: skip
    return prediction


def result(client, prediction: Prediction, **headers: str):
    return client.get(reverse("predictions:result", args=[prediction.pk]), **headers)


def test_a_finished_songs_poll_is_small_and_loads_the_result_once(signed_in, song):
    response = signed_in.get(reverse("predictions:status", args=[song.pk]), HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert len(html) < 1000
    assert 'hx-trigger="load"' in html
    assert "every 1s" not in html
    assert "dusty kick" not in html  # no samples panel, no analysis
    assert "124 BPM" in result(signed_in, song).content.decode()


def test_a_failed_songs_poll_also_loads_the_result(signed_in, user):
    failed = DonePredictionFactory(owner=user, status=Prediction.Status.FAILED, error="The file is empty.")
    poll = signed_in.get(reverse("predictions:status", args=[failed.pk])).content.decode()
    assert reverse("predictions:result", args=[failed.pk]) in poll
    assert "The file is empty." in result(signed_in, failed).content.decode()


def test_a_correction_shows_at_once_on_a_cached_result(signed_in, song):
    assert "124 BPM" in result(signed_in, song).content.decode()

    signed_in.post(reverse("predictions:correct", args=[song.pk]), {"tempo": "62"})

    html = result(signed_in, song).content.decode()
    assert "62 BPM" in html
    assert "Back to the estimate (124 BPM)" in html
    assert "Finding samples…" in html  # the correction restarted the samples stage
    RecommendationRun.objects.filter(prediction=song).update(status=RecommendationRun.Status.DONE)
    assert "Near 62 BPM (set by you)" in result(signed_in, song).content.decode()


def test_the_spectrogram_and_new_samples_show_at_once_on_a_cached_result(signed_in, song):
    first = result(signed_in, song).content.decode()
    assert "spectrogram.png" not in first
    assert "snare roll" not in first

    Prediction.objects.filter(pk=song.pk).update(spectrogram="spectrograms/2025/01/x.png")
    Recommendation.objects.create(
        prediction=song, sound=make_sound(2, name="snare roll.wav"), rank=1, genre="dance"
    )

    html = result(signed_in, song).content.decode()
    assert reverse("predictions:spectrogram", args=[song.pk]) in html
    assert "snare roll" in html


def test_a_sound_gone_from_freesound_shows_on_a_cached_result(signed_in, song):
    assert "no longer on Freesound" not in result(signed_in, song).content.decode()
    Recommendation.objects.get(prediction=song).sound.__class__.objects.update(removed=True)
    assert "no longer on Freesound" in result(signed_in, song).content.decode()


def test_each_browser_gets_its_own_csrf_token_in_a_cached_result(user, song):
    tokens = []
    for _ in range(2):
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(user)
        html = browser.get(song.get_absolute_url()).content.decode()
        assert CSRF_PLACEHOLDER not in html
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        tokens.append(token)
        response = browser.post(
            reverse("predictions:correct", args=[song.pk]), {"key": "A minor", "csrfmiddlewaretoken": token}
        )
        assert response.status_code == 302  # the form's token is this browser's
    assert tokens[0] != tokens[1]


@pytest.mark.parametrize("name", ["detail", "result"])
def test_an_unchanged_result_answers_304_to_its_etag(signed_in, song, name):
    url = reverse(f"predictions:{name}", args=[song.pk])
    first = signed_in.get(url)
    assert first["ETag"]
    assert "no-cache" in first["Cache-Control"]
    assert "private" in first["Cache-Control"]

    again = signed_in.get(url, HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304
    assert again.content == b""


def test_a_corrected_result_answers_200_to_the_old_etag(signed_in, song):
    first = result(signed_in, song)
    signed_in.post(reverse("predictions:correct", args=[song.pk]), {"tempo": "62"})

    again = result(signed_in, song, HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]
    assert "62 BPM" in again.content.decode()
