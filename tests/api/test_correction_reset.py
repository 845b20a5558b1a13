"""Taking back corrections through the API (issue 26, point 2): null for one field, DELETE for all;
the model's values are used again and the user's labels are gone."""

from __future__ import annotations

import pytest

from predictions.labels import prediction_labels
from tests.predictions.factories import DonePredictionFactory

pytestmark = pytest.mark.django_db


def test_the_api_takes_back_one_correction_with_null_and_all_with_delete(
    api, user, enqueued, django_capture_on_commit_callbacks
):
    prediction = DonePredictionFactory(
        owner=user, tempo_bpm=96.0, key="A minor", user_tempo_bpm=192.0, user_key="C major", user_genre="rock"
    )
    url = f"/api/v1/predictions/{prediction.pk}/correction/"

    with django_capture_on_commit_callbacks(execute=True):
        body = api.patch(url, {"genre": None}, format="json").json()
    assert body["genre"]["set_by_user"] is False
    assert body["genre"]["genre"] == "dance"
    assert body["tempo"]["set_by_user"] is True

    with django_capture_on_commit_callbacks(execute=True):
        body = api.delete(url).json()
    assert (body["tempo"]["bpm"], body["musical_key"]["name"]) == (96.0, "A minor")
    prediction.refresh_from_db()
    assert prediction_labels(prediction).genre_source == ""
    assert enqueued == [prediction.pk, prediction.pk]
