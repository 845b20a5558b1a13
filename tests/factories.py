"""The base of every app's factories (tests/<app>/factories.py)."""

from __future__ import annotations

from typing import Any

import factory

# factory_boy types `PredictionFactory(...)` as the factory, not the saved model it returns; through an
# Any base the tests see the model's attributes.
ModelFactory: Any = factory.django.DjangoModelFactory
