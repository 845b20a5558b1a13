"""Corrections and the site-wide Freesound budget (issue 28, item 4): corrections are throttled, a
correction re-ranks from the local index first, and live searches for one user's songs spend at
most that user's daily share."""

from __future__ import annotations

import pytest
from django.urls import reverse

from predictions.corrections import prediction_correct
from samples.budget import ShareSpent, default_budget, user_budget
from samples.freesound_index import index_refresh
from samples.models import GenreSearch, Recommendation, RecommendationRun
from samples.stage import recommendation_run
from tests.samples.conftest import add_loops

pytestmark = pytest.mark.django_db


@pytest.fixture
def house(genres):
    """Dance searched with one phrase, so the tests know which searches the service sends."""
    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    return GenreSearch.objects.get(slug="dance")


@pytest.fixture
def stage_runs_at_once(monkeypatch) -> None:
    """The samples stage a correction restarts runs at once, as the I/O worker would run it."""
    monkeypatch.setattr(
        "samples.stage.recommendation_run_enqueue",
        lambda prediction_id: recommendation_run(prediction_id=prediction_id),
    )


def test_eighty_corrections_are_throttled_and_spend_at_most_the_users_share(
    fs, house, prediction, signed_in, settings, stage_runs_at_once, django_capture_on_commit_callbacks
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "corrections": "10/hour"}
    settings.FREESOUND_USER_DAILY_SHARE = 4
    add_loops(fs, "house", n=6, bpm=124)  # every new tempo needs a live search for its own window
    url = reverse("predictions:correct", args=[prediction.pk])

    statuses = []
    for i in range(80):
        with django_capture_on_commit_callbacks(execute=True):
            response = signed_in.post(url, {"tempo": str(60 + i)})
        statuses.append(response.status_code)

    assert statuses == [302] * 10 + [429] * 70
    assert int(response["Retry-After"]) > 0
    assert "You have done that too often. Try again in" in response.content.decode()
    assert len(fs.api_calls()) <= 4
    assert default_budget().used_today() == len(fs.api_calls())
    run = RecommendationRun.objects.get(prediction=prediction)
    assert "your 4 live Freesound searches for today are used up" in run.message
    html = signed_in.get(prediction.get_absolute_url()).content.decode()
    assert "live Freesound searches for today are used up" in html  # the samples panel says so


def test_a_correction_with_a_well_filled_index_makes_no_live_request(
    fs, house, prediction, stage_runs_at_once, django_capture_on_commit_callbacks
):
    add_loops(fs, "house", n=20, bpm=124)
    add_loops(fs, "deep", n=20, bpm=96, tags=("house", "loop"))
    fs.add_sound("filler", username="x", licence="cc0", tags=("house", "loop"), bpm=96)
    index_refresh()
    assert GenreSearch.objects.get(slug="dance").sounds.count() >= 40
    before = len(fs.api_calls())

    with django_capture_on_commit_callbacks(execute=True):
        prediction_correct(prediction=prediction, tempo_bpm=96.0)

    assert len(fs.api_calls()) == before
    picks = Recommendation.objects.filter(prediction=prediction)
    assert picks.count() == 5
    assert all(r.matched_tempo and r.sound.bpm == 96 for r in picks)
    assert user_budget(user_id=prediction.owner_id).user_used_today() == 0


def test_a_users_share_is_their_own_and_leaves_the_site_budget_unspent(fs, settings, user, other_user):
    settings.FREESOUND_USER_DAILY_SHARE = 2
    mine = user_budget(user_id=user.pk)
    mine.acquire()
    mine.acquire()

    with pytest.raises(ShareSpent) as spent:
        mine.acquire()

    assert spent.value.daily
    assert spent.value.retry_after > 0
    assert default_budget().used_today() == 2  # the refused request spent nothing
    user_budget(user_id=other_user.pk).acquire()  # another user's share is untouched
    assert default_budget().used_today() == 3


def test_the_share_frees_up_as_the_day_passes(fs, settings, user, clock):
    settings.FREESOUND_USER_DAILY_SHARE = 1
    user_budget(user_id=user.pk).acquire()
    with pytest.raises(ShareSpent):
        user_budget(user_id=user.pk).acquire()

    clock.advance(25 * 3600)

    user_budget(user_id=user.pk).acquire()
