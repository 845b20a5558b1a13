"""Issue 26 point 3 in a real Chromium, at 1280 and 390 px: a song queued behind a background batch
says so on its progress card ("the worker is finishing background work; your song is next").

The workers' answer is what core.workers caches for the web processes; here it is put in that cache
as a worker running a background batch would leave it. That a song really runs before the rest of
the background queue is shown with a real worker in tests/sevenfour_site/test_queues.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from core.workers import CACHE_KEY, ModelReadiness
from tests.accounts.factories import UserFactory
from tests.conftest import no_horizontal_overflow
from tests.predictions.factories import PredictionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_a_song_behind_background_work_says_it_is_next(browser_as, settings, width):
    settings.WORKER_STATUS_CACHE_SECONDS = 600  # the answer stays while the page polls
    user = UserFactory(username=f"queued-{width}")
    song = PredictionFactory(owner=user, queued_at=timezone.now() - timedelta(seconds=30))
    busy = ModelReadiness(workers=1, processes=1, ready=1, runtime="onnxruntime:fp32", background=1)
    cache.set(CACHE_KEY, busy, timeout=600)
    page = browser_as(user, width=width)

    page.goto(song.get_absolute_url())

    page.get_by_text("the worker is finishing background work; your song is next").wait_for()
    page.get_by_text("songs go first").wait_for()
    assert no_horizontal_overflow(page)
