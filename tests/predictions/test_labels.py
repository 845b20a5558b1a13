"""Which value a prediction gives the next model: the user's, the review's or the estimate's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from predictions.labels import prediction_labels
from predictions.models import Prediction
from tests.predictions.factories import DonePredictionFactory

pytestmark = pytest.mark.django_db


def test_unlabelled_prediction_gives_the_estimates_and_no_genre():
    labels = prediction_labels(DonePredictionFactory.build(tempo_bpm=96.0, key="A minor"))
    assert (labels.genre, labels.genre_source) == ("", "")
    assert (labels.tempo_bpm, labels.tempo_source) == (96.0, "estimate")
    assert (labels.key, labels.key_source) == ("A minor", "estimate")


def test_the_users_values_win_over_the_estimates():
    labels = prediction_labels(
        DonePredictionFactory.build(tempo_bpm=96.0, user_tempo_bpm=192.0, key="A minor", user_key="C major")
    )
    assert (labels.tempo_bpm, labels.tempo_source) == (192.0, "user")
    assert (labels.key, labels.key_source) == ("C major", "user")


def test_the_users_genre_wins_unless_an_admin_reviewed_after_it():
    now = timezone.now()
    earlier_review = DonePredictionFactory.build(
        user_genre="rnb", corrected_at=now, reviewed_genre="pop", reviewed_at=now - timedelta(hours=1)
    )
    later_review = DonePredictionFactory.build(
        user_genre="rnb", corrected_at=now, reviewed_genre="pop", reviewed_at=now + timedelta(hours=1)
    )
    only_review = DonePredictionFactory.build(reviewed_genre="rock", reviewed_at=now)
    none_of_these = DonePredictionFactory.build(user_genre="none", corrected_at=now)

    assert prediction_labels(earlier_review).genre == "rnb"
    assert prediction_labels(earlier_review).genre_source == "user"
    assert (prediction_labels(later_review).genre, prediction_labels(later_review).genre_source) == (
        "pop",
        "review",
    )
    assert prediction_labels(only_review).genre == "rock"
    assert prediction_labels(none_of_these).genre == "none"
    assert isinstance(none_of_these, Prediction)
