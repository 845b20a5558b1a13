"""PATCH/DELETE /api/v1/predictions/<id>/correction/: the user's tempo, key and genre, stored apart
from the estimate, with the samples found again for them."""

from __future__ import annotations

import pytest

from predictions.models import Prediction
from samples.models import GenreSearch, Recommendation, RecommendationRun
from samples.services import recommendations_create_for_prediction
from samples.stage import recommendation_run
from tests.api.conftest import assert_error
from tests.predictions.factories import DonePredictionFactory, PredictionFactory
from tests.samples.conftest import add_loops

pytestmark = pytest.mark.django_db


def url(prediction: Prediction) -> str:
    return f"/api/v1/predictions/{prediction.pk}/correction/"


@pytest.fixture
def done(user):
    return DonePredictionFactory(
        owner=user, tempo_bpm=96.0, tempo_confidence=0.2, key="A minor", key_confidence=0.85
    )


def test_the_detail_carries_the_bar_when_the_analysis_found_it(api, user):
    song = DonePredictionFactory(
        owner=user, tempo_bpm=120.0, beat_times=[0.1, 0.6, 1.1], downbeat_times=[0.6], beats_per_bar=4
    )
    tempo = api.get(f"/api/v1/predictions/{song.pk}/").json()["tempo"]
    assert (tempo["downbeat_times"], tempo["beats_per_bar"]) == ([0.6], 4)


def test_the_detail_offers_the_three_two_reading_while_the_tempo_is_not_sure(api, user, settings):
    settings.TEMPO_SURE_AT = 0.8
    unsure = DonePredictionFactory(
        owner=user, tempo_bpm=96.0, tempo_confidence=0.2, tempo_metric_alternative_bpm=64.0
    )
    sure = DonePredictionFactory(
        owner=user, tempo_bpm=96.0, tempo_confidence=0.9, tempo_metric_alternative_bpm=64.0
    )

    assert api.get(f"/api/v1/predictions/{unsure.pk}/").json()["tempo"]["metric_alternative_bpm"] == 64.0
    assert api.get(f"/api/v1/predictions/{sure.pk}/").json()["tempo"]["metric_alternative_bpm"] is None


def test_the_detail_says_how_sure_the_estimates_are_and_offers_alternatives(api, done, settings):
    settings.KEY_SURE_AT = 0.8  # the shipped default (1.01) never calls a key sure
    body = api.get(f"/api/v1/predictions/{done.pk}/").json()

    assert body["tempo"] == {
        "bpm": 96.0,
        "estimate_bpm": 96.0,
        "set_by_user": False,
        "confidence": 0.2,
        "confidence_label": "unsure",
        "alternative_bpm": 192.0,
        "metric_alternative_bpm": None,
        "beat_times": [],
        "downbeat_times": [],
        "beats_per_bar": None,
    }
    assert body["musical_key"]["confidence_label"] == "sure"
    assert [a["key"] for a in body["musical_key"]["alternatives"]] == [
        "C major",
        "A major",
        "E minor",
        "D minor",
    ]
    assert body["genre"] == {"genre": "dance", "name": "Dance", "set_by_user": False, "none_of_these": False}


def test_correcting_the_tempo_keeps_the_estimate_and_starts_the_samples_again(
    api, done, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(url(done), {"tempo_bpm": 192}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["tempo"]["bpm"] == 192.0
    assert body["tempo"]["set_by_user"] is True
    assert body["tempo_bpm"] == 96.0  # the estimate, untouched
    assert body["samples_status"] == "pending"
    done.refresh_from_db()
    assert (done.user_tempo_bpm, done.tempo_bpm) == (192.0, 96.0)
    assert done.corrected_at is not None
    assert enqueued == [done.pk]


def test_correcting_the_key(api, done, enqueued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        body = api.patch(url(done), {"key": "c maj"}, format="json").json()

    assert body["musical_key"]["name"] == "C major"
    assert body["musical_key"]["set_by_user"] is True
    assert body["musical_key"]["estimate"] == "A minor"
    assert body["key"] == "A minor"
    assert enqueued == [done.pk]


def test_correcting_the_genre_and_saying_none_of_these(
    api, done, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        body = api.patch(url(done), {"genre": "rnb"}, format="json").json()
    assert body["genre"] == {"genre": "rnb", "name": "R&B", "set_by_user": True, "none_of_these": False}
    assert body["top_genre"] == "dance"  # the model's answer stays

    body = api.patch(url(done), {"genre": "none"}, format="json").json()
    assert body["genre"]["none_of_these"] is True
    done.refresh_from_db()
    assert (done.user_genre, done.reviewed_genre) == ("none", "")


def test_null_resets_one_field_and_delete_resets_all(api, done, enqueued):
    api.patch(url(done), {"tempo_bpm": 48, "key": "E minor", "genre": "pop"}, format="json")

    body = api.patch(url(done), {"tempo_bpm": None}, format="json").json()
    assert (body["tempo"]["bpm"], body["tempo"]["set_by_user"]) == (96.0, False)
    assert body["musical_key"]["name"] == "E minor"

    body = api.delete(url(done)).json()
    assert body["musical_key"] == {**body["musical_key"], "name": "A minor", "set_by_user": False}
    assert body["genre"]["set_by_user"] is False
    done.refresh_from_db()
    assert (done.user_tempo_bpm, done.user_key, done.user_genre) == (None, "", "")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"tempo_bpm": 5}, "tempo_bpm"),
        ({"tempo_bpm": "fast"}, "tempo_bpm"),
        ({"key": "H dorian"}, "key"),
        ({"genre": "polka"}, "genre"),
        ({}, "non_field_errors"),
    ],
)
def test_invalid_corrections_are_400_and_change_nothing(api, done, enqueued, payload, field):
    error = assert_error(api.patch(url(done), payload, format="json"), 400, "invalid")

    assert field in error["field_errors"]
    done.refresh_from_db()
    assert (done.user_tempo_bpm, done.user_key, done.user_genre, done.corrected_at) == (None, "", "", None)
    assert enqueued == []


def test_another_users_prediction_is_404(api, other_user, enqueued):
    theirs = DonePredictionFactory(owner=other_user)

    assert_error(api.patch(url(theirs), {"tempo_bpm": 120}, format="json"), 404, "not_found")
    assert_error(api.delete(url(theirs)), 404, "not_found")
    theirs.refresh_from_db()
    assert theirs.user_tempo_bpm is None


def test_an_unfinished_prediction_cannot_be_corrected(api, user):
    running = PredictionFactory(owner=user, status=Prediction.Status.RUNNING)

    assert_error(api.patch(url(running), {"tempo_bpm": 120}, format="json"), 409, "not_finished")


def test_after_a_tempo_correction_the_samples_are_ranked_for_the_new_tempo(
    api, user, fs, django_capture_on_commit_callbacks, monkeypatch
):
    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    add_loops(fs, "house", n=6, bpm=96)
    add_loops(fs, "deep", n=6, bpm=192, tags=("house", "loop", "deep"))
    prediction = DonePredictionFactory(owner=user, tempo_bpm=96.0, confidence=0.9, key="")
    recommendations_create_for_prediction(prediction=prediction)
    before = api.get(f"/api/v1/predictions/{prediction.pk}/").json()["recommendations"]
    assert {r["fit"]["tempo"] for r in before} == {"in tempo"}
    monkeypatch.setattr("samples.stage.recommendation_run_enqueue", lambda prediction_id: None)

    with django_capture_on_commit_callbacks(execute=True):
        api.patch(url(prediction), {"tempo_bpm": 192}, format="json")
    assert not Recommendation.objects.filter(prediction=prediction).exists()
    assert RecommendationRun.objects.get(prediction=prediction).status == "pending"
    recommendation_run(prediction_id=prediction.pk)  # what the I/O worker runs

    after = api.get(f"/api/v1/predictions/{prediction.pk}/").json()
    assert after["samples_status"] == "done"
    assert [r["sound"]["bpm"] for r in after["recommendations"]] == [192] * 5
    assert {r["fit"]["tempo"] for r in after["recommendations"]} == {"in tempo"}


def test_corrections_are_throttled_per_user_and_share_the_pages_allowance(
    api, done, rates, enqueued, client, user
):
    rates(corrections="3/hour")
    client.force_login(user)
    assert client.post(f"/predictions/{done.pk}/correct/", {"tempo": "100"}).status_code == 302
    assert api.patch(url(done), {"tempo_bpm": 110}, format="json").status_code == 200
    assert api.delete(url(done)).status_code == 200

    response = api.patch(url(done), {"tempo_bpm": 120}, format="json")

    error = assert_error(response, 429, "throttled")
    assert "Try again in" in error["message"]
    assert int(response["Retry-After"]) > 0
    done.refresh_from_db()
    assert done.user_tempo_bpm is None  # the refused correction changed nothing
