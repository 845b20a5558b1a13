"""Audio that does not sound like music (issue 26, point 6): pink noise got "Rock 27 %", a "fairly
sure" 155 BPM and five samples. A result judged noise, speech or near-silence (worker.musicness,
Prediction.sounds_like) claims no genre, gives no confidence badge, and gets no samples until its
user names a genre."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import reverse

from predictions import corrections, services
from predictions.models import Prediction
from predictions.presenters import tempo_view
from predictions.signals import prediction_done
from predictions.tasks import predict_genre_task
from samples.models import RecommendationRun
from tests.api.conftest import api, token  # noqa: F401 (fixtures)
from tests.predictions.factories import DonePredictionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def noise(user):
    """What pink noise got before: Rock 27 %, 155 BPM "fairly sure" with "or 72.1 BPM?"."""
    return DonePredictionFactory(
        owner=user,
        title="pink noise",
        sounds_like=Prediction.SoundsLike.NOISE,
        genre_scores={
            "rock": 0.27,
            "pop": 0.2,
            "dance": 0.15,
            "electronica": 0.14,
            "rnb": 0.1,
            "classical": 0.08,
            "shoegaze": 0.06,
        },  # fmt: skip
        top_genre="rock",
        confidence=0.27,
        tags=[["rock", 0.3]],
        tempo_bpm=155.0,
        tempo_confidence=0.5,
        tempo_alternative_bpm=72.1,
        tempo_metric_alternative_bpm=103.3,
        key="C major",
        key_confidence=0.7,
    )


def test_the_result_page_says_it_does_not_sound_like_music(signed_in, noise):
    html = signed_in.get(noise.get_absolute_url()).content.decode()

    assert "This does not sound like music" in html
    assert "It sounds like noise" in html
    assert "Rock 27%" not in html
    assert 'aria-label="Genre probabilities"' not in html
    assert 'class="badge confidence' not in html  # neither "sure" nor "fairly sure"
    assert "or 77.5 BPM?" not in html  # no alternative either: nothing to be unsure between
    assert "tempo-metric" not in html  # nor the ×2/3 reading
    assert "155 BPM" in html  # what the estimator found is still shown, without a claim
    assert "No samples for audio that is not music" in html
    assert "Finding samples" not in html
    assert "Music after all? This is" in html


def test_music_and_older_unjudged_results_keep_their_genre_and_badges(signed_in, user):
    for sounds_like in ("music", ""):
        prediction = DonePredictionFactory(owner=user, sounds_like=sounds_like, tempo_confidence=0.6)
        html = signed_in.get(prediction.get_absolute_url()).content.decode()
        assert "This does not sound like music" not in html
        assert "Dance 55%" in html
        assert 'class="badge confidence' in html


def test_the_history_says_not_music_instead_of_a_genre(signed_in, noise):
    html = signed_in.get(reverse("predictions:history")).content.decode()

    assert "not music" in html
    assert "Rock ·" not in html


def test_status_json_and_api_say_what_it_sounds_like_and_name_no_genre(signed_in, api, noise):  # noqa: F811
    status = signed_in.get(reverse("predictions:status_json", args=[noise.pk])).json()
    assert (status["sounds_like"], status["top_genre"]) == ("noise", None)

    body = api.get(f"/api/v1/predictions/{noise.pk}/").json()
    assert body["sounds_like"] == "noise"
    assert (body["top_genre"], body["top_genre_name"]) == (None, None)
    assert body["tempo"]["confidence_label"] == ""
    assert body["tempo"]["alternative_bpm"] is None
    assert body["tempo"]["metric_alternative_bpm"] is None
    assert body["musical_key"]["confidence_label"] == ""
    listed = api.get("/api/v1/predictions/").json()["results"][0]
    assert listed["sounds_like"] == "noise"


def test_no_samples_stage_starts_for_noise_until_the_user_names_a_genre(
    noise, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        prediction_done.send(sender=Prediction, prediction_id=noise.pk)
    assert not RecommendationRun.objects.filter(prediction=noise).exists()
    assert enqueued == []

    with django_capture_on_commit_callbacks(execute=True):
        corrections.prediction_correct(prediction=noise, genre="electronica")
    noise.refresh_from_db()
    assert noise.samples_offered
    assert RecommendationRun.objects.get(prediction=noise).status == RecommendationRun.Status.PENDING
    assert enqueued == [noise.pk]


def test_music_starts_its_samples_stage_as_before(user, enqueued, django_capture_on_commit_callbacks):
    music = DonePredictionFactory(owner=user, sounds_like=Prediction.SoundsLike.MUSIC)
    with django_capture_on_commit_callbacks(execute=True):
        prediction_done.send(sender=Prediction, prediction_id=music.pk)
    assert enqueued == [music.pk]


def test_the_job_stores_the_verdict_and_starts_no_samples(
    user, wav_upload, fake_predictor, monkeypatch, enqueued, django_capture_on_commit_callbacks
):
    said = fake_predictor.predict

    def speech(path, **kwargs):
        return SimpleNamespace(**{**vars(said(path, **kwargs)), "sounds_like": "speech"})

    monkeypatch.setattr(fake_predictor, "predict", speech)
    prediction = services.prediction_create_from_upload(user=user, upload=wav_upload)
    with django_capture_on_commit_callbacks(execute=True):
        predict_genre_task.apply(args=(prediction.pk,))

    prediction.refresh_from_db()
    assert (prediction.status, prediction.sounds_like) == (Prediction.Status.DONE, "speech")
    assert prediction.not_music
    assert not prediction.samples_offered
    assert enqueued == []


def test_a_stand_in_result_without_a_verdict_is_not_judged(user, wav_upload, fake_predictor):
    prediction = services.prediction_create_from_upload(user=user, upload=wav_upload)
    predict_genre_task.apply(args=(prediction.pk,))

    prediction.refresh_from_db()
    assert (prediction.status, prediction.sounds_like) == (Prediction.Status.DONE, "")
    assert not prediction.not_music


@pytest.mark.parametrize(
    ("estimate", "named", "expected"),
    [
        (155.0, 72.1, 77.5),
        (96.0, 192.4, 192.0),
        (132.0, 96.0, 66.0),
        (96.0, None, 192.0),
        (124.0, None, 62.0),
    ],
)
def test_the_tempo_alternative_is_what_the_halve_or_double_button_sets(estimate, named, expected):
    prediction = DonePredictionFactory.build(
        tempo_bpm=estimate, tempo_confidence=0.2, tempo_alternative_bpm=named
    )
    view = tempo_view(prediction)

    assert view.alternative_bpm == expected
    assert view.alternative_bpm in (view.half, view.double)


def test_no_alternative_beyond_what_a_button_can_set():
    prediction = DonePredictionFactory.build(
        tempo_bpm=180.0, tempo_confidence=0.2, tempo_alternative_bpm=360.0
    )
    assert tempo_view(prediction).alternative_bpm is None
    assert tempo_view(prediction).double is None
