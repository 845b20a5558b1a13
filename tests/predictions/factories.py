from __future__ import annotations

from typing import Any

import factory

from accounts.models import User
from predictions.models import Prediction

# factory_boy types `PredictionFactory(...)` as the factory, not the saved model it returns; through an
# Any base the tests see the model's attributes.
ModelFactory: Any = factory.django.DjangoModelFactory


class UserFactory(ModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("a-long-pass-123")


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
