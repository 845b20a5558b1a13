"""Recommendations for a prediction, end to end against the fake Freesound over real HTTP."""

from __future__ import annotations

import pytest

from predictions.models import Prediction
from samples import services
from samples.freesound_index import index_refresh
from samples.models import GenreSearch, Recommendation, RecommendationRun, Sound
from samples.selectors import samples_message_for
from samples.services import preference_set, recommendations_create_for_prediction
from samples.sounds import sound_refresh
from samples.stage import recommendations_retry
from tests.samples.conftest import add_loops

Reason = RecommendationRun.Reason


@pytest.fixture
def house(genres):
    """Dance searched with one phrase, so the tests know which search the service sends."""
    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    return GenreSearch.objects.get(slug="dance")


def ids(recommendations) -> list[int]:
    return [r.sound.freesound_id for r in recommendations]


def test_five_ranked_recommendations_from_a_live_search_when_the_index_is_empty(fs, house, prediction):
    add_loops(fs, "house", n=12, bpm=124)

    created = recommendations_create_for_prediction(prediction=prediction)

    assert [r.rank for r in created] == [1, 2, 3, 4, 5]
    assert all(r.matched_tempo and r.genre == "dance" and r.batch == 0 for r in created)
    first = fs.api_calls()[0]
    assert first.arg("query") == "house loop"
    assert first.arg("filter") == (
        'license:("Creative Commons 0" OR "Attribution") duration:[1 TO 30] tag:loop '
        "(bpm:[118 TO 130] OR bpm:[242 TO 250] OR bpm:[56 TO 68])"
    )
    prediction.refresh_from_db()
    assert samples_message_for(prediction=prediction) == ""


def test_fewer_than_five_samples_say_why_the_list_is_short(fs, house, prediction):
    add_loops(fs, "house", n=3, bpm=124)

    created = recommendations_create_for_prediction(prediction=prediction)

    assert len(created) == 3
    message = samples_message_for(prediction=prediction)  # on the samples stage's run
    assert message.startswith("Only 3 of 5 samples: Freesound has no more sounds")
    assert "More like these" in message


def test_bpm_filter_finding_too_few_falls_back_to_genre_only(fs, house, prediction):
    in_tempo = add_loops(fs, "house", n=2, bpm=123)
    fs_others = [
        fs.add_sound(f"house loop slow {i}", username=f"slow{i}", tags=("house", "loop"), bpm=90)
        for i in range(8)
    ]

    created = recommendations_create_for_prediction(prediction=prediction)

    filters = [r.arg("filter") for r in fs.api_calls()]
    assert len(filters) == 2
    assert "bpm:[" in filters[0]
    assert "bpm:[" not in filters[1]  # the genre-only fallback
    assert len(created) == 5
    assert set(ids(created[:2])) == {s.id for s in in_tempo}  # tempo matches first
    assert [r.matched_tempo for r in created] == [True, True, False, False, False]
    assert set(ids(created[2:])) <= {s.id for s in fs_others}


def test_same_key_ranks_first_among_tempo_matches(fs, house, prediction):
    add_loops(fs, "house", n=8, bpm=124, tonality="C major")
    in_key = fs.add_sound(
        "house loop in key", username="keyed", tags=("house", "loop"), bpm=126, tonality="A minor"
    )

    created = recommendations_create_for_prediction(prediction=prediction)

    assert created[0].sound.freesound_id == in_key.id
    assert created[0].matched_key
    assert not any(r.matched_key for r in created[1:])


def test_no_noncommercial_sounds_unless_the_user_opts_in(fs, house, prediction):
    add_loops(fs, "house", n=10, bpm=124, licence="bync")
    add_loops(fs, "cc", n=0)

    assert recommendations_create_for_prediction(prediction=prediction) == []
    assert all("NonCommercial" not in r.arg("filter") for r in fs.api_calls())
    prediction.refresh_from_db()
    assert "No Freesound samples fit" in samples_message_for(prediction=prediction)

    preference_set(user=prediction.owner, allow_noncommercial=True)
    created = recommendations_create_for_prediction(prediction=prediction)

    assert len(created) == 5
    assert {r.sound.licence for r in created} == {"by-nc"}
    assert 'license:("Creative Commons 0" OR "Attribution" OR "Attribution NonCommercial")' in fs.api_calls()[
        -1
    ].arg("filter")


def test_sampling_plus_and_nc_in_the_index_are_never_shown_by_default(fs, house, prediction, other_user):
    add_loops(fs, "house", n=6, bpm=124, licence="sampling+")
    add_loops(fs, "free", n=0)
    # Another user who opted in fills the shared index with BY-NC sounds.
    nc = add_loops(fs, "house", n=6, bpm=124, licence="bync")
    preference_set(user=other_user, allow_noncommercial=True)
    from tests.predictions.factories import DonePredictionFactory

    recommendations_create_for_prediction(
        prediction=DonePredictionFactory(owner=other_user, tempo_bpm=124.0, confidence=0.9)
    )
    assert Sound.objects.filter(licence="by-nc").count() >= 5

    created = recommendations_create_for_prediction(prediction=prediction)

    assert created == []
    assert not set(ids(created)) & {s.id for s in nc}


def test_recommendations_are_varied_not_five_from_one_pack(fs, house, prediction):
    add_loops(fs, "house", n=10, bpm=124, pack_id=42, username="packer")  # one author, one pack
    others = [
        fs.add_sound(f"house loop other {i}", username=f"o{i}", tags=("house", "loop"), bpm=125)
        for i in range(4)
    ]

    created = recommendations_create_for_prediction(prediction=prediction)

    assert len(created) == 5
    from_pack = [r for r in created if r.sound.pack_uri.endswith("/42/")]
    assert len(from_pack) == 1
    assert {s.id for s in others} <= set(ids(created))


def test_a_second_prediction_needs_no_http_call(fs, house, prediction, user):
    from tests.predictions.factories import DonePredictionFactory

    add_loops(fs, "house", n=20, bpm=124)
    recommendations_create_for_prediction(prediction=prediction)
    calls = len(fs.api_calls())

    # Served from the local index the first one filled.
    again = recommendations_create_for_prediction(
        prediction=DonePredictionFactory(owner=user, tempo_bpm=124.0, confidence=0.9)
    )
    assert len(again) == 5
    assert len(fs.api_calls()) == calls

    # And with the index emptied, the identical searches come from the shared cache.
    Sound.objects.all().delete()
    third = recommendations_create_for_prediction(
        prediction=DonePredictionFactory(owner=user, tempo_bpm=124.0, confidence=0.9)
    )
    assert len(third) == 5
    assert len(fs.api_calls()) == calls


def test_more_like_these_fetches_the_next_five(fs, house, prediction):
    add_loops(fs, "house", n=20, bpm=124)
    first = recommendations_create_for_prediction(prediction=prediction)

    more = recommendations_create_for_prediction(prediction=prediction)

    assert [r.rank for r in more] == [6, 7, 8, 9, 10]
    assert {r.batch for r in more} == {1}
    assert not set(ids(first)) & set(ids(more))


def test_low_confidence_mixes_in_the_second_genre(fs, house, prediction):
    GenreSearch.objects.filter(slug="electronica").update(queries="synth loop")
    add_loops(fs, "house", n=8, bpm=124)
    add_loops(fs, "synth", n=8, bpm=124)
    Prediction.objects.filter(pk=prediction.pk).update(
        confidence=0.42, genre_scores={"dance": 0.42, "electronica": 0.38, "pop": 0.2}
    )
    prediction.refresh_from_db()

    created = recommendations_create_for_prediction(prediction=prediction)

    assert [r.genre for r in created] == ["dance"] * 3 + ["electronica"] * 2


def test_throttled_prediction_completes_with_a_message_and_a_retry(
    fs, house, prediction, django_capture_on_commit_callbacks
):
    add_loops(fs, "house", n=10, bpm=124)
    fs.throttle(times=10)

    with django_capture_on_commit_callbacks() as callbacks:
        created = recommendations_create_for_prediction(prediction=prediction)

    assert created == []
    assert len(fs.api_calls()) == 1  # the budget is blocked after the 429: nothing more is sent
    prediction.refresh_from_db()
    assert prediction.status == Prediction.Status.DONE
    assert samples_message_for(prediction=prediction).startswith("Freesound is busy")
    assert "retried" in samples_message_for(prediction=prediction)
    assert "UTC" in samples_message_for(prediction=prediction)
    assert len(callbacks) == 1  # the retry, sent once the transaction commits


def test_retry_task_fills_the_samples_once_freesound_answers(fs, house, prediction, clock):
    from samples.tasks import recommendations_retry_task

    add_loops(fs, "house", n=10, bpm=124)
    fs.throttle()
    recommendations_create_for_prediction(prediction=prediction)
    clock.advance(61)

    recommendations_retry_task.apply(args=(prediction.pk, 1))

    prediction.refresh_from_db()
    assert prediction.recommendations.count() == 5
    assert samples_message_for(prediction=prediction) == ""


ARRANGE = {
    "five sounds": lambda fs, settings: add_loops(fs, "house", n=10, bpm=124),
    "three sounds": lambda fs, settings: add_loops(fs, "house", n=3, bpm=124),
    "no sound": lambda fs, settings: None,
    "a 429": lambda fs, settings: fs.throttle(times=10),
    "a 503": lambda fs, settings: fs.answer_5xx(503, times=5),
    "no key": lambda fs, settings: setattr(settings, "FREESOUND_API_KEY", ""),
    "a wrong key": lambda fs, settings: setattr(settings, "FREESOUND_API_KEY", "not-the-key"),
}


@pytest.mark.parametrize(
    ("freesound_has", "reason"),
    [
        ("five sounds", Reason.NONE),
        ("three sounds", Reason.FEW),
        ("no sound", Reason.NONE_FIT),
        ("a 429", Reason.THROTTLED),
        ("a 503", Reason.UNAVAILABLE),
        ("no key", Reason.MISSING_KEY),
        ("a wrong key", Reason.BAD_KEY),
    ],
)
def test_the_stage_keeps_why_its_samples_are_short_as_a_code_beside_the_message(
    fs, house, prediction, settings, freesound_has, reason
):
    ARRANGE[freesound_has](fs, settings)

    recommendations_create_for_prediction(prediction=prediction)

    assert RecommendationRun.objects.get(prediction=prediction).reason == reason


@pytest.mark.parametrize(("reason", "retried"), [(Reason.THROTTLED, True), (Reason.UNAVAILABLE, False)])
def test_the_retry_goes_by_the_runs_reason_not_by_its_message(
    fs, house, prediction, monkeypatch, django_capture_on_commit_callbacks, reason, retried
):
    # The same words either way: only the code decides whether the retry is tried again.
    monkeypatch.setattr(services, "_message", lambda outcome, *, shown: (reason, "Freesound is busy."))

    with django_capture_on_commit_callbacks() as callbacks:
        recommendations_retry(prediction_id=prediction.pk, attempt=1)

    run = RecommendationRun.objects.get(prediction=prediction)
    assert (run.reason, run.message) == (reason, "Freesound is busy.")
    assert len(callbacks) == (1 if retried else 0)  # the next retry, sent once the transaction commits


def test_missing_key_says_how_to_get_one_where_to_put_it_and_to_restart(fs, house, prediction, settings):
    settings.FREESOUND_API_KEY = ""
    add_loops(fs, "house", n=10, bpm=124)

    assert recommendations_create_for_prediction(prediction=prediction) == []

    prediction.refresh_from_db()
    message = samples_message_for(prediction=prediction)
    assert message.startswith("No FREESOUND_API_KEY is configured")
    assert "https://freesound.org/apiv2/apply" in message
    assert ".env file" in message
    assert "environment" in message
    assert "restart" in message
    assert len(message) <= 300  # the run's message column: nothing is cut off
    assert fs.api_calls() == []


def test_missing_key_still_recommends_from_the_index(fs, house, prediction, settings):
    add_loops(fs, "house", n=20, bpm=124)
    index_refresh()
    settings.FREESOUND_API_KEY = ""

    assert len(recommendations_create_for_prediction(prediction=prediction)) == 5


def test_freesound_down_is_a_message_not_a_crash(fs, house, prediction):
    fs.answer_5xx(503, times=5)

    assert recommendations_create_for_prediction(prediction=prediction) == []
    prediction.refresh_from_db()
    assert "not answering" in samples_message_for(prediction=prediction)


def test_a_removed_sound_is_marked_and_never_recommended_again(fs, house, prediction):
    loops = add_loops(fs, "house", n=6, bpm=124)
    created = recommendations_create_for_prediction(prediction=prediction)
    gone = created[0].sound
    fs.remove_sound(gone.freesound_id)

    assert sound_refresh(sound=gone) is None
    gone.refresh_from_db()
    assert gone.removed
    Recommendation.objects.all().delete()
    again = recommendations_create_for_prediction(prediction=prediction)
    assert gone.freesound_id not in ids(again)
    assert len(loops) == 6


def test_index_refresh_fills_genres_within_the_run_budget(fs, settings, db):
    settings.FREESOUND_INDEX_PAGES = 1
    settings.FREESOUND_INDEX_REQUESTS_PER_RUN = 6
    add_loops(fs, "house", n=5)

    report = index_refresh()

    assert report.requests <= 6
    assert report.genres  # at least one genre done
    assert report.stopped == "run budget spent"
    done = GenreSearch.objects.filter(indexed_at__isnull=False)
    assert {g.slug for g in done} == set(report.genres)
    assert all(GenreSearch.objects.get(slug=s).query_list for s in report.genres)


def test_index_refresh_leaves_the_live_reserve(fs, settings, db):
    settings.FREESOUND_RATE_PER_DAY = 1010
    settings.FREESOUND_LIVE_RESERVE = 1000

    report = index_refresh()

    assert report.requests == 0
    assert report.stopped == "daily budget reserved for live searches"
