"""Issue 18, point 17: a slow Freesound held a web worker for 30 s on "More like these"."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.urls import reverse

from fakeapis.server import Fault
from samples.services import recommendations_create_for_prediction
from tests.samples.conftest import add_loops

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_a_slow_freesound_gets_a_clear_message_before_it_answers(client, fs, user, prediction, settings):
    from samples.models import GenreSearch

    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    add_loops(fs, "house", n=5)
    recommendations_create_for_prediction(prediction=prediction)  # uses up what Freesound has
    cache.clear()  # so "More like these" has to ask Freesound again
    settings.FREESOUND_READ_TIMEOUT = 10.0  # production's
    settings.FREESOUND_WEB_TIME_LIMIT = 1.0
    slow = 6.0
    fs.add_fault(Fault(None, delay=slow, times=20))  # every search answers, but only after 6 s
    client.force_login(user)

    started = time.monotonic()
    response = client.post(reverse("samples:recommendations_more", args=[prediction.pk]), **HTMX)
    waited = time.monotonic() - started

    assert response.status_code == 200
    assert "Freesound is not answering right now" in response.content.decode()
    assert waited < slow  # the page answered before Freesound did
    assert prediction.recommendations.count() == 5  # the first batch is kept


def test_outside_a_web_request_the_normal_timeouts_apply(settings):
    from samples import freesound

    settings.FREESOUND_READ_TIMEOUT = 10.0
    assert freesound._timeout()[1] == 10.0
    with freesound.time_limit(2.0):
        assert freesound._timeout()[1] <= 2.0
    assert freesound._timeout()[1] == 10.0
