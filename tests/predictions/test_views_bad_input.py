"""Issue 18, point 13: ?genre=%00 on history gave 500 (PostgreSQL refuses NUL in a string)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.predictions.factories import DonePredictionFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("genre", ["\x00", "rock\x00", "x" * 500, "Rock'; --", "²"])
def test_a_genre_that_cannot_be_a_slug_is_no_filter(client, user, genre):
    DonePredictionFactory(owner=user, title="Still listed", top_genre="rock")
    client.force_login(user)

    response = client.get(reverse("predictions:history"), {"genre": genre})

    assert response.status_code == 200
    assert "Still listed" in response.content.decode()


def test_a_real_genre_still_filters(client, user):
    DonePredictionFactory(owner=user, title="Rock song", top_genre="rock")
    DonePredictionFactory(owner=user, title="Jazz song", top_genre="jazz")
    client.force_login(user)

    text = client.get(reverse("predictions:history"), {"genre": "jazz"}).content.decode()

    assert "Jazz song" in text
    assert "Rock song" not in text
