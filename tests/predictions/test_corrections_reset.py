"""Taking back a correction (issue 26, point 2): "Back to the model's genre" posted the genre select
beside the reset and was always refused, and the slip stayed a training label. Each of tempo, key
and genre can be taken back; the model's value is used again, the user's label is gone, and the
samples are found again as after a correction."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.urls import reverse

from predictions import corrections
from predictions.labels import ESTIMATE, REVIEW, USER, prediction_labels
from predictions.models import Prediction
from predictions.signals import prediction_corrected
from samples.models import RecommendationRun
from tests.predictions.factories import CorrectedPredictionFactory, DonePredictionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def corrected(user):
    """A prediction whose user set all three: tempo 192, key C major, genre rock."""
    return CorrectedPredictionFactory(owner=user)


@pytest.fixture
def signals() -> Iterator[list[tuple[int, list[str]]]]:
    sent: list[tuple[int, list[str]]] = []

    def receiver(sender, *, prediction_id: int, fields: list[str], **kwargs) -> None:
        sent.append((prediction_id, fields))

    prediction_corrected.connect(receiver, dispatch_uid="test-reset-receiver")
    yield sent
    prediction_corrected.disconnect(dispatch_uid="test-reset-receiver")


# --- The service ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "field", "estimate_attr", "estimate"),
    [
        ("tempo", "user_tempo_bpm", "song_tempo_bpm", 96.0),
        ("key", "user_key", "song_key", "A minor"),
        ("genre", "user_genre", "song_genre", "dance"),
    ],
)
def test_each_correction_can_be_taken_back_on_its_own(
    corrected, signals, enqueued, name, field, estimate_attr, estimate
):
    assert corrections.prediction_correct(prediction=corrected, reset=(name,)) == [name]

    corrected.refresh_from_db()
    assert getattr(corrected, field) in (None, "")
    assert getattr(corrected, estimate_attr) == estimate
    others = {"tempo": 192.0, "key": "C major", "genre": "rock"}
    others.pop(name)
    assert {n: v for n, v in {"tempo": corrected.user_tempo_bpm, "key": corrected.user_key,
                              "genre": corrected.user_genre}.items() if n != name} == others  # fmt: skip
    assert signals == [(corrected.pk, [name])]


def test_a_taken_back_genre_is_no_longer_a_training_label(corrected, enqueued):
    assert prediction_labels(corrected).genre == "rock"
    assert prediction_labels(corrected).genre_source == USER

    corrections.prediction_correct(prediction=corrected, reset=("genre", "tempo", "key"))
    corrected.refresh_from_db()

    labels = prediction_labels(corrected)
    assert (labels.genre, labels.genre_source) == ("", "")
    assert (labels.tempo_bpm, labels.tempo_source) == (96.0, ESTIMATE)
    assert (labels.key, labels.key_source) == ("A minor", ESTIMATE)


def test_after_taking_back_the_genre_an_admin_review_is_the_label_again(corrected, enqueued, admin_user):
    from django.utils import timezone

    Prediction.objects.filter(pk=corrected.pk).update(reviewed_genre="pop", reviewed_at=timezone.now())
    corrected.refresh_from_db()
    corrections.prediction_correct(prediction=corrected, reset=("genre",))
    corrected.refresh_from_db()

    assert (prediction_labels(corrected).genre, prediction_labels(corrected).genre_source) == ("pop", REVIEW)


def test_taking_back_what_was_never_set_changes_nothing_and_restarts_nothing(user, signals, enqueued):
    plain = DonePredictionFactory(owner=user)

    assert corrections.prediction_correct(prediction=plain, reset=("tempo", "key", "genre")) == []
    assert signals == []
    assert enqueued == []


def test_a_reset_restarts_the_samples_as_a_correction_does(
    corrected, enqueued, django_capture_on_commit_callbacks
):
    RecommendationRun.objects.create(prediction=corrected, status=RecommendationRun.Status.DONE)
    with django_capture_on_commit_callbacks(execute=True):
        corrections.prediction_correct(prediction=corrected, reset=("genre",))

    assert RecommendationRun.objects.get(prediction=corrected).status == RecommendationRun.Status.PENDING
    assert enqueued == [corrected.pk]


# --- The page ------------------------------------------------------------------------------------------


def correct(client, prediction: Prediction, **data: str):
    return client.post(reverse("predictions:correct", args=[prediction.pk]), data)


def test_back_to_the_models_genre_is_a_form_of_its_own_without_the_select(signed_in, corrected):
    html = signed_in.get(corrected.get_absolute_url()).content.decode()

    forms = re.findall(r"<form\b.*?</form>", html, flags=re.S)
    reset_forms = [form for form in forms if 'name="reset" value="genre"' in form]
    assert len(reset_forms) == 1
    assert "<select" not in reset_forms[0]
    assert 'name="genre"' not in reset_forms[0]
    for name in ("tempo", "key"):
        (form,) = [f for f in forms if f'name="reset" value="{name}"' in f]
        assert "<select" not in form
        assert '<input type="number"' not in form


def test_the_reset_the_old_page_posted_with_the_select_now_works(signed_in, corrected, enqueued):
    """What "Back to the model's genre" sent before the fix: the select's value beside the reset."""
    response = correct(signed_in, corrected, genre="rock", reset="genre")

    assert response.status_code == 302
    corrected.refresh_from_db()
    assert corrected.user_genre == ""
    assert corrected.song_genre == "dance"
    html = signed_in.get(response["Location"]).content.decode()
    assert "Now using genre Dance" in html
    assert "not saved" not in html
    assert "Back to the model&#x27;s genre" not in html
    assert "Back to the model's genre" not in html


@pytest.mark.parametrize(("name", "said"), [("tempo", "tempo 96 BPM"), ("key", "key A minor")])
def test_back_to_the_estimate_of_tempo_and_key_from_the_page(signed_in, corrected, enqueued, name, said):
    response = correct(signed_in, corrected, reset=name)

    assert response.status_code == 302
    html = signed_in.get(response["Location"]).content.decode()
    assert f"Now using {said}" in html
