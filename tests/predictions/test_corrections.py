"""The user's corrections on the result page: honest confidence, ×2/÷2, a typed (or tapped) tempo,
a key from the picker, a genre (or none of these), "set by you" and back to the estimate."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import reverse

from predictions import corrections, jobs, services
from predictions.models import Prediction
from predictions.presenters import key_choices, key_view, tempo_view
from samples.models import RecommendationRun
from tests.predictions.factories import DonePredictionFactory, PredictionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def unsure(user):
    return DonePredictionFactory(
        owner=user, tempo_bpm=96.0, tempo_confidence=0.1, key="A minor", key_confidence=0.65
    )


def correct(client, prediction: Prediction, **data: str):
    return client.post(reverse("predictions:correct", args=[prediction.pk]), data)


# --- What the page says ------------------------------------------------------------------------------


def test_an_unsure_tempo_says_so_and_offers_its_octave(signed_in, unsure):
    html = signed_in.get(unsure.get_absolute_url()).content.decode()

    assert "96 BPM" in html
    assert ">unsure<" in html
    assert "or 192 BPM?" in html
    assert ">fairly sure<" in html  # the key, at 0.65
    assert 'name="tempo" value="192.0"' in html  # ×2
    assert 'name="tempo" value="48.0"' in html  # ÷2
    for alternative in ("C major", "A major", "E minor", "D minor"):
        assert f'name="key" value="{alternative}"' in html
    assert "set by you" not in html
    assert "js/tap-tempo.js" in html
    assert " style=" not in html.split('id="tempo-key"')[1].split("</article>")[0]  # CSP: no inline style
    assert "<script>" not in html


def test_an_unsure_tempo_offers_its_three_two_reading_as_a_button(signed_in, user):
    song = DonePredictionFactory(
        owner=user,
        tempo_bpm=96.0,
        tempo_confidence=0.1,
        tempo_alternative_bpm=192.0,
        tempo_metric_alternative_bpm=144.0,
    )
    html = signed_in.get(song.get_absolute_url()).content.decode()

    assert "or 192 or 144 BPM?" in html
    assert 'name="tempo" value="144.0"' in html
    assert "×3/2 <span" in html


@pytest.mark.parametrize(
    ("estimate", "named", "expected", "label"),
    [
        (96.0, 144.0, 144.0, "×3/2"),
        (96.0, 64.0, 64.0, "×2/3"),
        (100.0, 66.6, 66.7, "×2/3"),
        (120.0, None, None, ""),
    ],
)
def test_the_three_two_reading_is_exactly_the_estimate_times_or_over_one_and_a_half(
    estimate, named, expected, label
):
    """An older or hand-edited row's stored reading only says which way: the value is the estimate's."""
    view = tempo_view(
        DonePredictionFactory.build(
            tempo_bpm=estimate, tempo_confidence=0.2, tempo_metric_alternative_bpm=named
        )
    )
    assert view.metric_alternative_bpm == expected
    assert view.metric_label == label


def test_the_three_two_reading_is_not_offered_when_sure_set_by_the_user_or_out_of_range(settings):
    settings.TEMPO_SURE_AT = 0.8
    sure = DonePredictionFactory.build(
        tempo_bpm=96.0, tempo_confidence=0.9, tempo_metric_alternative_bpm=144.0
    )
    fast = DonePredictionFactory.build(
        tempo_bpm=240.0, tempo_confidence=0.2, tempo_metric_alternative_bpm=360.0
    )
    assert tempo_view(sure).metric_alternative_bpm is None
    assert tempo_view(fast).metric_alternative_bpm is None


def test_a_user_tempo_hides_the_three_two_button(signed_in, user):
    song = DonePredictionFactory(
        owner=user,
        tempo_bpm=96.0,
        tempo_confidence=0.1,
        tempo_metric_alternative_bpm=144.0,
        user_tempo_bpm=100.0,
    )
    html = signed_in.get(song.get_absolute_url()).content.decode()

    assert "tempo-metric" not in html
    assert "tempo-alternative" not in html


def test_a_sure_tempo_offers_no_alternative(signed_in, user, settings):
    settings.TEMPO_SURE_AT = 0.8
    sure = DonePredictionFactory(owner=user, tempo_bpm=124.0, tempo_confidence=0.8)
    html = signed_in.get(sure.get_absolute_url()).content.decode()
    assert ">sure<" in html
    assert "tempo-alternative" not in html


def test_the_estimators_own_alternative_tempo_and_keys_come_first():
    prediction = DonePredictionFactory.build(
        tempo_bpm=132.0,
        tempo_confidence=0.2,
        tempo_alternative_bpm=96.0,
        key="A minor",
        key_alternatives=["F major"],
    )
    # The estimator said "slower": the alternative is ÷2 of the estimate, what the ÷2 button sets.
    assert tempo_view(prediction).alternative_bpm == 66.0 == tempo_view(prediction).half
    assert [c.name for c in key_view(prediction).choices][:2] == ["F major", "C major"]
    assert key_view(prediction).choices[0].why == "likely"


def test_key_choices_never_offer_the_current_key_and_offer_the_estimate_back():
    choices = key_choices("C major", "A minor", ["C major", "G major"])
    names = [c.name for c in choices]
    assert names[0] == "A minor"
    assert choices[0].why == "the estimate"
    assert "C major" not in names
    assert len(names) == len(set(names))
    assert key_choices("", "", []) == []


# --- Corrections ------------------------------------------------------------------------------------


def test_doubling_the_tempo_stores_the_users_value_and_restarts_the_samples(
    signed_in, unsure, enqueued, django_capture_on_commit_callbacks
):
    RecommendationRun.objects.create(prediction=unsure, status=RecommendationRun.Status.DONE)
    with django_capture_on_commit_callbacks(execute=True):
        response = correct(signed_in, unsure, tempo="192.0")

    assert response.status_code == 302
    unsure.refresh_from_db()
    assert (unsure.user_tempo_bpm, unsure.tempo_bpm, unsure.song_tempo_bpm) == (192.0, 96.0, 192.0)
    assert RecommendationRun.objects.get(prediction=unsure).status == RecommendationRun.Status.PENDING
    assert enqueued == [unsure.pk]
    html = signed_in.get(response["Location"]).content.decode()
    assert "192 BPM" in html
    assert "set by you" in html
    assert "Back to the estimate (96 BPM)" in html
    assert "Now using tempo 192 BPM" in html
    assert "Finding samples…" in html


def test_a_typed_tempo_a_key_and_a_genre_and_back_to_the_estimates(signed_in, unsure, enqueued):
    correct(signed_in, unsure, tempo="101.5")
    correct(signed_in, unsure, key="C major")
    correct(signed_in, unsure, genre="rnb")
    unsure.refresh_from_db()
    assert (unsure.user_tempo_bpm, unsure.user_key, unsure.user_genre) == (101.5, "C major", "rnb")
    html = signed_in.get(unsure.get_absolute_url()).content.decode()
    assert "This is <strong>R&amp;B</strong>" in html
    assert html.count("set by you") >= 3

    for name in ("tempo", "key", "genre"):
        correct(signed_in, unsure, reset=name)
    unsure.refresh_from_db()
    assert (unsure.user_tempo_bpm, unsure.user_key, unsure.user_genre) == (None, "", "")
    assert (unsure.tempo_bpm, unsure.key, unsure.top_genre) == (96.0, "A minor", "dance")


def test_none_of_these_is_said_on_the_page(signed_in, unsure, enqueued):
    correct(signed_in, unsure, genre="none")
    html = signed_in.get(unsure.get_absolute_url()).content.decode()
    assert "None of our seven genres" in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"tempo": "fast"}, "Type the tempo as a number of BPM"),
        ({"tempo": "900"}, "between 30 and 300 BPM"),
        ({"key": "H dorian"}, "is not a key"),
        ({"genre": "polka"}, "Choose one of"),
        ({"reset": "mood"}, "Select a valid choice"),
        ({}, "Say what to correct"),
    ],
)
def test_bad_corrections_say_why_and_change_nothing(signed_in, unsure, enqueued, data, message):
    response = correct(signed_in, unsure, **data)

    assert response.status_code == 400
    assert message in response.content.decode()
    unsure.refresh_from_db()
    assert (unsure.user_tempo_bpm, unsure.user_key, unsure.user_genre, unsure.corrected_at) == (
        None,
        "",
        "",
        None,
    )
    assert enqueued == []


def test_another_users_or_an_unfinished_prediction_cannot_be_corrected(signed_in, user, other_user):
    theirs = DonePredictionFactory(owner=other_user)
    running = PredictionFactory(owner=user, status=Prediction.Status.RUNNING)

    assert correct(signed_in, theirs, tempo="120").status_code == 404
    assert correct(signed_in, running, tempo="120").status_code == 404
    assert signed_in.get(reverse("predictions:correct", args=[theirs.pk])).status_code == 405


def test_the_same_value_again_changes_nothing_and_restarts_nothing(unsure, enqueued):
    assert corrections.prediction_correct(prediction=unsure, tempo_bpm=120) == ["tempo"]
    assert corrections.prediction_correct(prediction=unsure, tempo_bpm=120) == []


# --- What a newer estimator adds ----------------------------------------------------------------------


def test_the_estimators_second_opinions_are_stored_in_our_spelling():
    result = SimpleNamespace(
        tempo_alternative_bpm=192.0,
        beat_times=[0.31234, 0.9376],
        key_alternatives=[("C major", 0.6), ("e minor", 0.3), ("nonsense", 0.1), ("C major", 0.05)],
    )
    assert jobs.analysis_extras(result) == {  # type: ignore[arg-type]  # a stand-in result
        "tempo_alternative_bpm": 192.0,
        "tempo_metric_alternative_bpm": None,  # a result from before the ×3/2 reading was reported
        "beat_times": [0.312, 0.938],
        "downbeat_times": [],  # a result from before the bar was reported
        "beats_per_bar": None,
        "key_alternatives": ["C major", "E minor"],
    }


def test_the_bar_is_stored_as_the_worker_found_it_and_unknown_when_it_found_none():
    found = SimpleNamespace(
        tempo_alternative_bpm=None,
        beat_times=[0.1, 0.6, 1.1, 1.6, 2.1],
        downbeat_times=[0.6004, 2.1],
        beats_per_bar=3,
        key_alternatives=[],
    )
    unknown = SimpleNamespace(**{**vars(found), "downbeat_times": [], "beats_per_bar": None})
    no_beats = SimpleNamespace(**{**vars(found), "beats_per_bar": 0})
    assert jobs.analysis_extras(found)["downbeat_times"] == [0.6, 2.1]  # type: ignore[arg-type]  # a stand-in
    assert jobs.analysis_extras(found)["beats_per_bar"] == 3  # type: ignore[arg-type]  # a stand-in
    assert jobs.analysis_extras(unknown)["downbeat_times"] == []  # type: ignore[arg-type]  # a stand-in
    assert jobs.analysis_extras(unknown)["beats_per_bar"] is None  # type: ignore[arg-type]  # a stand-in
    assert jobs.analysis_extras(no_beats)["beats_per_bar"] is None  # type: ignore[arg-type]  # a stand-in


def test_doubling_and_halving_are_offered_only_within_the_tempos_a_user_may_set():
    fast = tempo_view(DonePredictionFactory.build(tempo_bpm=96.0, user_tempo_bpm=192.0))
    slow = tempo_view(DonePredictionFactory.build(tempo_bpm=50.0))
    assert (fast.double, fast.half) == (None, 96.0)
    assert (slow.double, slow.half) == (100.0, None)


def test_a_job_stores_the_extras_of_the_analysis_on_the_row(user, wav_upload, fake_predictor, monkeypatch):
    from predictions.tasks import predict_genre_task

    plain = fake_predictor.predict

    def with_extras(path, *, spectrogram_png=None, spectrogram_mel=None):
        result = plain(path, spectrogram_png=spectrogram_png, spectrogram_mel=spectrogram_mel)
        result.tempo_alternative_bpm = 240.0
        result.tempo_metric_alternative_bpm = 180.0
        result.beat_times = (0.25, 0.75, 1.25)
        result.downbeat_times = (0.75,)
        result.beats_per_bar = 4
        result.key_alternatives = (("C major", 0.4), ("E minor", 0.2))
        return result

    monkeypatch.setattr(fake_predictor, "predict", with_extras)
    prediction = services.prediction_create_from_upload(user=user, upload=wav_upload)

    predict_genre_task.apply(args=(prediction.pk,))

    prediction.refresh_from_db()
    assert prediction.status == Prediction.Status.DONE
    assert prediction.tempo_alternative_bpm == 240.0
    assert prediction.tempo_metric_alternative_bpm == 180.0
    assert prediction.beat_times == [0.25, 0.75, 1.25]
    assert (prediction.downbeat_times, prediction.beats_per_bar) == ([0.75], 4)
    assert prediction.key_alternatives == ["C major", "E minor"]
