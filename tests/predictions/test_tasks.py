"""The prediction task's branches (soft time limit, retries, duplicate delivery, its queue) and the
spectrogram task that draws the picture afterwards."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.exceptions import Retry, SoftTimeLimitExceeded
from django.db import connection
from django.utils import timezone

from core.jobs import retry_countdown
from predictions import jobs, services
from predictions.models import Prediction
from predictions.signals import prediction_done
from predictions.tasks import predict_genre_task, render_spectrogram_task, sweep_predictions_task
from sevenfour_site.celery import app as celery_app
from tests.conftest import free_port
from tests.predictions.factories import DonePredictionFactory

Status = Prediction.Status


class TimedOutPredictor:
    """The model hits Celery's soft time limit halfway through."""

    def predict(self, path, *, spectrogram_png=None, spectrogram_mel=None):
        raise SoftTimeLimitExceeded()


@pytest.mark.django_db
def test_the_soft_time_limit_fails_the_row_with_the_too_long_message(user, wav_upload, monkeypatch):
    prediction = services.prediction_create_from_upload(user=user, upload=wav_upload)
    monkeypatch.setattr("worker.predictor.get_predictor", lambda *args, **kwargs: TimedOutPredictor())

    predict_genre_task.apply(args=(prediction.pk,), task_id="job-slow")

    prediction.refresh_from_db()
    assert prediction.status == Status.FAILED
    assert prediction.error == jobs.STALE_FAILURE
    assert prediction.finished_at is not None


@pytest.mark.django_db
def test_a_delivery_that_already_used_every_retry_fails_the_row_without_retrying(
    user, wav_upload, settings, monkeypatch
):
    settings.PREDICTION_MAX_RETRIES = 3
    prediction = services.prediction_create_from_upload(user=user, upload=wav_upload)
    monkeypatch.setattr(
        jobs,
        "_fetch_audio",
        lambda p, scratch: (_ for _ in ()).throw(jobs.TransientJobError("Deezer is busy.")),
    )
    retried: list[dict] = []
    monkeypatch.setattr(predict_genre_task, "retry", lambda **kwargs: retried.append(kwargs))

    predict_genre_task.apply(args=(prediction.pk,), retries=3)

    prediction.refresh_from_db()
    assert retried == []
    assert prediction.status == Status.FAILED
    assert prediction.error == "Deezer is busy. We gave up after several tries."


@pytest.mark.django_db
def test_a_transient_error_is_retried_after_the_delay_the_provider_asked_for(user, wav_upload, monkeypatch):
    prediction = services.prediction_create_from_upload(user=user, upload=wav_upload)
    monkeypatch.setattr(
        jobs,
        "_fetch_audio",
        lambda p, scratch: (_ for _ in ()).throw(jobs.TransientJobError("Rate limited.", retry_after=42)),
    )
    retried: list[dict] = []

    def fake_retry(**kwargs):
        retried.append(kwargs)
        return Retry("scheduled", when=kwargs["countdown"])

    monkeypatch.setattr(predict_genre_task, "retry", fake_retry)

    predict_genre_task.apply(args=(prediction.pk,))

    prediction.refresh_from_db()
    assert [r["countdown"] for r in retried] == [42]
    # Released for the retry to claim: pending, with the reason shown to the user meanwhile.
    assert (prediction.status, prediction.error) == (Status.PENDING, "Rate limited.")


def test_without_a_provider_hint_retries_back_off_from_10_s_to_at_most_5_min():
    assert [retry_countdown(n, None) for n in range(7)] == [10, 20, 40, 80, 160, 300, 300]
    assert retry_countdown(0, 3) == 3


@pytest.mark.django_db
def test_a_duplicate_delivery_of_a_finished_job_changes_nothing_and_signals_nothing(
    user, wav_upload, fake_predictor
):
    prediction = services.prediction_create_from_upload(user=user, upload=wav_upload)
    done: list[int] = []

    def record(sender: object, *, prediction_id: int, **kwargs: object) -> None:
        done.append(prediction_id)

    prediction_done.connect(record)
    try:
        predict_genre_task.apply(args=(prediction.pk,), task_id="job-a")
        first = Prediction.objects.get(pk=prediction.pk)
        predict_genre_task.apply(args=(prediction.pk,), task_id="job-a-duplicate")
    finally:
        prediction_done.disconnect(record)

    again = Prediction.objects.get(pk=prediction.pk)
    assert again.status == Status.DONE
    assert (again.attempts, again.job_id, again.finished_at) == (1, "job-a", first.finished_at)
    assert len(fake_predictor.calls) == 1
    assert done == [prediction.pk]


@pytest.mark.django_db
def test_the_same_task_id_delivered_again_while_the_first_runs_does_not_analyse_twice(
    user, wav_upload, fake_predictor
):
    prediction = services.prediction_create_from_upload(user=user, upload=wav_upload)
    original_predict = fake_predictor.predict

    def predict_while_a_duplicate_arrives(path, *, spectrogram_png=None, spectrogram_mel=None):
        # The broker hands the very same message (same task id) to a second worker mid-analysis.
        predict_genre_task.apply(args=(prediction.pk,), task_id="job-a")
        return original_predict(path, spectrogram_png=spectrogram_png, spectrogram_mel=spectrogram_mel)

    fake_predictor.predict = predict_while_a_duplicate_arrives

    predict_genre_task.apply(args=(prediction.pk,), task_id="job-a")

    prediction.refresh_from_db()
    assert prediction.status == Status.DONE
    assert len(fake_predictor.calls) == 1
    assert prediction.attempts == 1


def _database_goes_down() -> dict:
    """Point this process's connection at a database that cannot be reached (a real driver error)."""
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent-dir/down.sqlite3"
    else:
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(free_port()))
    return saved


@pytest.mark.django_db(transaction=True)
def test_a_database_outage_mid_job_is_retried_as_transient_and_the_retry_finishes_it(
    user, wav_upload, fake_predictor, monkeypatch, settings
):
    prediction = services.prediction_create_from_upload(user=user, upload=wav_upload)
    saved: dict = {}
    original_predict = fake_predictor.predict

    def predict_then_lose_the_database(path, *, spectrogram_png=None, spectrogram_mel=None):
        result = original_predict(path, spectrogram_png=spectrogram_png, spectrogram_mel=spectrogram_mel)
        saved.update(_database_goes_down())
        return result

    fake_predictor.predict = predict_then_lose_the_database
    retried: list[dict] = []

    def fake_retry(**kwargs):
        retried.append(kwargs)
        return Retry("scheduled", when=kwargs["countdown"])

    monkeypatch.setattr(predict_genre_task, "retry", fake_retry)
    try:
        predict_genre_task.apply(args=(prediction.pk,), task_id="job-db")
    finally:
        connection.close()
        connection.settings_dict.update(saved)

    # Retried, not failed; late enough for the row's heartbeat to count as stopped.
    assert [r["countdown"] for r in retried] == [settings.PREDICTION_HEARTBEAT_TIMEOUT + 1]
    prediction.refresh_from_db()
    assert (prediction.status, prediction.job_id) == (Status.RUNNING, "job-db")

    # The retry (same task id) arrives after the countdown and finishes the job.
    stopped = timezone.now() - timedelta(seconds=settings.PREDICTION_HEARTBEAT_TIMEOUT + 1)
    Prediction.objects.filter(pk=prediction.pk).update(heartbeat_at=stopped)
    monkeypatch.undo()
    fake_predictor.predict = original_predict
    monkeypatch.setattr("worker.predictor.get_predictor", lambda *args, **kwargs: fake_predictor)
    predict_genre_task.apply(args=(prediction.pk,), task_id="job-db", retries=1)
    prediction.refresh_from_db()
    assert prediction.status == Status.DONE, prediction.error
    assert prediction.attempts == 2


@pytest.mark.django_db
def test_the_sweep_task_reports_what_it_did(filesystem_broker):
    assert sweep_predictions_task.apply().get() == {"requeued": 0, "failed": 0, "recovered": 0, "pictures": 0}


def test_the_genre_task_goes_to_the_ml_queue_under_its_stable_name():
    route = celery_app.amqp.router.route({}, services.PREDICT_GENRE_TASK)
    assert predict_genre_task.name == services.PREDICT_GENRE_TASK
    assert route["queue"].name == "ml"


# --- The spectrogram picture, drawn by the I/O queue -------------------------------------------


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@pytest.fixture
def analysed(user, wav_upload, fake_predictor) -> Prediction:
    """A finished job: the ML task saved the mel, nothing has drawn it yet."""
    prediction = services.prediction_create_from_upload(user=user, upload=wav_upload)
    predict_genre_task.apply(args=(prediction.pk,))
    prediction.refresh_from_db()
    assert prediction.status == Status.DONE
    return prediction


@pytest.mark.django_db
def test_the_drawing_task_renders_the_png_from_the_saved_mel_then_deletes_the_mel(analysed):
    mel_name, storage = analysed.spectrogram_mel.name, analysed.spectrogram_mel.storage
    assert storage.exists(mel_name)
    assert not analysed.spectrogram

    render_spectrogram_task.apply(args=(analysed.pk,)).get()

    analysed.refresh_from_db()
    assert _png_size(analysed.spectrogram.open("rb").read()) == (1000, 400)
    assert analysed.spectrogram.name.startswith("spectrograms/")
    assert not analysed.spectrogram_mel
    assert not storage.exists(mel_name)
    assert analysed.spectrogram_failed is False


@pytest.mark.django_db
def test_a_second_delivery_of_the_drawing_task_changes_nothing(analysed):
    render_spectrogram_task.apply(args=(analysed.pk,)).get()
    analysed.refresh_from_db()
    first_name, first_bytes = analysed.spectrogram.name, analysed.spectrogram.open("rb").read()
    files_before = set(analysed.spectrogram.storage.listdir(first_name.rsplit("/", 1)[0])[1])

    render_spectrogram_task.apply(args=(analysed.pk,)).get()

    analysed.refresh_from_db()
    assert analysed.spectrogram.name == first_name
    assert analysed.spectrogram.open("rb").read() == first_bytes
    assert set(analysed.spectrogram.storage.listdir(first_name.rsplit("/", 1)[0])[1]) == files_before


@pytest.mark.django_db
def test_an_existing_png_is_kept_even_if_a_mel_is_still_there(analysed):
    from django.core.files.base import ContentFile

    analysed.spectrogram.save("old.png", ContentFile(b"\x89PNG\r\n\x1a\n older"))

    assert jobs.prediction_spectrogram_render(prediction_id=analysed.pk) is False

    analysed.refresh_from_db()
    assert analysed.spectrogram.open("rb").read() == b"\x89PNG\r\n\x1a\n older"


@pytest.mark.django_db
def test_a_mel_that_cannot_be_drawn_marks_the_picture_failed_and_keeps_the_analysis(analysed):
    with analysed.spectrogram_mel.open("wb") as fh:
        fh.write(b"not a saved mel")

    render_spectrogram_task.apply(args=(analysed.pk,)).get()

    analysed.refresh_from_db()
    assert analysed.spectrogram_failed is True
    assert not analysed.spectrogram
    assert (analysed.status, analysed.top_genre, analysed.tempo_bpm) == (Status.DONE, "dance", 120.0)
    assert analysed.spectrogram_mel.storage.exists(analysed.spectrogram_mel.name)  # kept for a re-send


@pytest.mark.django_db
def test_a_prediction_without_a_saved_mel_is_left_alone():
    old = DonePredictionFactory()  # from before the picture moved off the ML path, or deleted meanwhile

    assert jobs.prediction_spectrogram_render(prediction_id=old.pk) is False
    assert jobs.prediction_spectrogram_render(prediction_id=old.pk + 1000) is False
    old.refresh_from_db()
    assert not old.spectrogram
    assert not old.spectrogram_failed


@pytest.mark.django_db
def test_the_ml_job_sends_the_drawing_task_after_commit(
    user, wav_upload, django_capture_on_commit_callbacks, monkeypatch
):
    sent: list[int] = []
    monkeypatch.setattr(
        jobs, "prediction_spectrogram_enqueue", lambda *, prediction_id: sent.append(prediction_id)
    )
    prediction = services.prediction_create_from_upload(user=user, upload=wav_upload)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        predict_genre_task.apply(args=(prediction.pk,))
    assert sent == []  # nothing before the commit

    for callback in callbacks:
        callback()
    assert sent == [prediction.pk]


def test_the_drawing_task_goes_to_the_io_queue_under_its_stable_name():
    route = celery_app.amqp.router.route({}, services.RENDER_SPECTROGRAM_TASK)
    assert render_spectrogram_task.name == services.RENDER_SPECTROGRAM_TASK
    assert route["queue"].name == "celery"
