from __future__ import annotations

import factory

from predictions.models import Prediction
from tests.accounts.factories import UserFactory
from tests.factories import ModelFactory


class PredictionFactory(ModelFactory):
    class Meta:
        model = Prediction
        skip_postgeneration_save = True

    owner = factory.SubFactory(UserFactory)
    source = Prediction.Source.DEEZER
    source_track_id = factory.Sequence(lambda n: str(3135553 + n))
    title = "One More Time"
    artist = "Daft Punk"
    album = "Discovery"


class DonePredictionFactory(PredictionFactory):
    status = Prediction.Status.DONE
    genre_scores = factory.LazyFunction(
        lambda: {
            "classical": 0.02,
            "dance": 0.55,
            "electronica": 0.25,
            "pop": 0.1,
            "rnb": 0.03,
            "rock": 0.03,
            "shoegaze": 0.02,
        }
    )
    top_genre = "dance"
    confidence = 0.55
    tempo_bpm = 123.0
    key = "F# minor"
    model_name = "sevenfour-zeroshot"
    model_version = "1.0.0"


class CorrectedPredictionFactory(DonePredictionFactory):
    """A finished song whose user set all three: tempo 192 (the estimate 96, unsure), key C major
    (the estimate A minor) and genre rock."""

    tempo_bpm = 96.0
    tempo_confidence = 0.2
    key = "A minor"
    key_confidence = 0.6
    user_tempo_bpm = 192.0
    user_key = "C major"
    user_genre = "rock"
