"""The prediction job's state machine, driven through the services and the Celery task."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from catalog.errors import NoPreview
from fakeapis.audio import sine_wav
from predictions import jobs, services
from predictions.models import Prediction
from predictions.tasks import predict_genre_task
from tests.conftest import broker_configured, free_port, running_worker, wait_until
from tests.predictions.factories import DonePredictionFactory, PredictionFactory
from worker.audio import decode as audio

Status = Prediction.Status


@pytest.mark.django_db
def test_create_saves_a_pending_row_and_enqueues_after_commit(
    user, wav_upload, filesystem_broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        prediction = services.prediction_create_from_upload(user=user, upload=wav_upload)
        assert not any((filesystem_broker / "queue").iterdir()), "nothing may be sent before the commit"
    prediction.refresh_from_db()
    assert len(callbacks) == 1
    assert prediction.status == Status.PENDING
    assert prediction.queued_at is not None
    assert prediction.upload.name.endswith(".wav")
    assert len(list((filesystem_broker / "queue").iterdir())) == 1


@pytest.mark.django_db
def test_the_sweep_sends_again_a_running_job_whose_worker_stopped_beating(user, filesystem_broker, settings):
    now = timezone.now()
    silent = now - timedelta(seconds=settings.PREDICTION_HEARTBEAT_TIMEOUT + 1)
    orphan = PredictionFactory(owner=user)
    alive = PredictionFactory(owner=user)
    hopeless = PredictionFactory(owner=user)
    for row, heartbeat_at, attempts in ((orphan, silent, 1), (alive, now, 1), (hopeless, silent, 3)):
        Prediction.objects.filter(pk=row.pk).update(
            status=Status.RUNNING, job_id=f"job-{row.pk}", started_at=silent, heartbeat_at=heartbeat_at,
            attempts=attempts,
        )  # fmt: skip
    settings.PREDICTION_MAX_ATTEMPTS = 3

    report = jobs.prediction_sweep(now=now)

    assert (report.recovered, report.failed) == (1, 0)
    orphan.refresh_from_db()
    alive.refresh_from_db()
    hopeless.refresh_from_db()
    assert (orphan.status, orphan.job_id) == (Status.PENDING, "")
    assert orphan.queued_at is not None  # sent again at once, not after PREDICTION_REQUEUE_AFTER
    assert alive.status == Status.RUNNING
    assert (hopeless.status, hopeless.error) == (Status.FAILED, jobs.WORKER_LOST_FAILURE)
    assert len(list((filesystem_broker / "queue").iterdir())) == 1
    # The new message (a new task id) claims the row; the old one, handed out late, does nothing.
    assert jobs.prediction_claim(prediction_id=orphan.pk, job_id="job-new")
    assert not jobs.prediction_claim(prediction_id=orphan.pk, job_id=f"job-{orphan.pk}")


@pytest.mark.django_db
def test_submit_with_the_broker_down_still_saves_the_row(
    user, wav_upload, django_capture_on_commit_callbacks
):
    with (
        broker_configured(f"redis://127.0.0.1:{free_port()}/0"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        prediction = services.prediction_create_from_upload(user=user, upload=wav_upload)
    prediction.refresh_from_db()
    assert prediction.status == Status.PENDING
    assert prediction.queued_at is None


@pytest.mark.django_db(transaction=True)
def test_claim_is_exclusive_between_concurrent_workers(user):
    prediction = PredictionFactory(owner=user)
    barrier = threading.Barrier(2)
    results: dict[str, bool] = {}

    def claim(job_id: str) -> None:
        barrier.wait()
        try:
            results[job_id] = jobs.prediction_claim(prediction_id=prediction.pk, job_id=job_id)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(job,)) for job in ("job-a", "job-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results.values()) == [False, True]
    prediction.refresh_from_db()
    assert prediction.status == Status.RUNNING
    assert results[prediction.job_id] is True


@pytest.mark.django_db
def test_redelivery_after_done_is_a_noop(user, fake_predictor):
    prediction = DonePredictionFactory(owner=user, job_id="job-a")
    jobs.prediction_run(prediction_id=prediction.pk, job_id="job-a")
    jobs.prediction_run(prediction_id=prediction.pk, job_id="job-b")
    prediction.refresh_from_db()
    assert prediction.status == Status.DONE
    assert prediction.attempts == 0
    assert fake_predictor.calls == []


@pytest.mark.django_db
def test_a_redelivered_message_takes_over_the_job_only_once_its_worker_stopped_beating(user, settings):
    prediction = PredictionFactory(owner=user)
    assert jobs.prediction_claim(prediction_id=prediction.pk, job_id="job-a", worker="w1")
    assert not jobs.prediction_claim(prediction_id=prediction.pk, job_id="job-b")
    # The same message delivered again while its first delivery is alive: a duplicate, no-op.
    assert not jobs.prediction_claim(prediction_id=prediction.pk, job_id="job-a")
    stopped = timezone.now() - timedelta(seconds=settings.PREDICTION_HEARTBEAT_TIMEOUT + 1)
    Prediction.objects.filter(pk=prediction.pk).update(heartbeat_at=stopped)
    assert jobs.prediction_claim(prediction_id=prediction.pk, job_id="job-a", worker="w2")
    prediction.refresh_from_db()
    assert (prediction.attempts, prediction.worker) == (2, "w2")


@pytest.mark.django_db
def test_the_heartbeat_refreshes_only_the_row_its_job_still_holds(user):
    prediction = PredictionFactory(owner=user)
    jobs.prediction_claim(prediction_id=prediction.pk, job_id="job-a")
    old = timezone.now() - timedelta(minutes=5)
    Prediction.objects.filter(pk=prediction.pk).update(heartbeat_at=old)
    assert jobs.prediction_heartbeat(prediction_id=prediction.pk, job_id="job-a")
    assert Prediction.objects.get(pk=prediction.pk).heartbeat_at > old
    assert not jobs.prediction_heartbeat(prediction_id=prediction.pk, job_id="job-b")


@pytest.mark.django_db
def test_an_upload_runs_to_done_with_every_result_field(user, wav_upload, fake_predictor):
    prediction = services.prediction_create_from_upload(user=user, upload=wav_upload)
    predict_genre_task.apply(args=(prediction.pk,))
    prediction.refresh_from_db()
    assert prediction.status == Status.DONE
    assert prediction.top_genre == "dance"
    assert prediction.confidence == pytest.approx(0.5)
    assert prediction.genre_scores["electronica"] == pytest.approx(0.2)
    assert (prediction.tempo_bpm, prediction.key) == (120.0, "A minor")
    assert (prediction.model_name, prediction.model_version) == ("fake", "0.0.1")
    # The ML job saves the mel only; the I/O queue draws the PNG (test_tasks).
    assert prediction.spectrogram_mel.name.endswith(".npz")
    assert not prediction.spectrogram
    assert prediction.excerpt_s == 10.0  # what the model heard, for the spectrogram's caption
    assert prediction.patches_read == 5  # of the excerpt's patches, as the model reported
    assert prediction.started_at <= prediction.finished_at
    assert prediction.error == ""
    assert fake_predictor.calls == [prediction.upload.open("rb").read()]


@pytest.mark.django_db
def test_a_transient_error_releases_the_row_and_the_retry_succeeds(
    user, wav_upload, fake_predictor, monkeypatch
):
    prediction = services.prediction_create_from_upload(user=user, upload=wav_upload)
    real_fetch = jobs._fetch_audio
    seen_states: list[tuple[str, str]] = []

    def flaky_fetch(p, scratch):
        if not seen_states:
            seen_states.append(("first try", Prediction.objects.get(pk=p.pk).status))
            raise jobs.TransientJobError("Deezer is busy (rate limited).", retry_after=1)
        seen_states.append(("retry", Prediction.objects.get(pk=p.pk).status))
        return real_fetch(p, scratch)

    monkeypatch.setattr(jobs, "_fetch_audio", flaky_fetch)
    predict_genre_task.apply(args=(prediction.pk,))
    prediction.refresh_from_db()
    assert seen_states == [("first try", Status.RUNNING), ("retry", Status.RUNNING)]
    assert prediction.status == Status.DONE
    assert prediction.attempts == 2
    assert prediction.error == ""


@pytest.mark.django_db
def test_a_transient_error_leaves_the_row_pending_with_the_reason(user):
    prediction = PredictionFactory(owner=user)
    assert jobs.prediction_claim(prediction_id=prediction.pk, job_id="job-a")
    assert jobs.prediction_release(prediction_id=prediction.pk, job_id="job-a", message="Deezer is busy.")
    prediction.refresh_from_db()
    assert (prediction.status, prediction.error) == (Status.PENDING, "Deezer is busy.")


@pytest.mark.django_db
def test_retries_are_bounded_and_end_in_a_clear_failure(user, wav_upload, settings, monkeypatch):
    settings.PREDICTION_MAX_RETRIES = 2
    prediction = services.prediction_create_from_upload(user=user, upload=wav_upload)

    def always_busy(p, scratch):
        raise jobs.TransientJobError("Deezer is not answering right now.")

    monkeypatch.setattr(jobs, "_fetch_audio", always_busy)
    predict_genre_task.apply(args=(prediction.pk,))
    prediction.refresh_from_db()
    assert prediction.status == Status.FAILED
    assert prediction.attempts == 3
    assert prediction.error.startswith("Deezer is not answering right now.")


@pytest.mark.django_db
def test_an_unexpected_error_fails_the_row_with_a_generic_message(user, wav_upload, monkeypatch):
    prediction = services.prediction_create_from_upload(user=user, upload=wav_upload)

    def broken(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr("worker.predictor.get_predictor", broken)
    predict_genre_task.apply(args=(prediction.pk,))
    prediction.refresh_from_db()
    assert prediction.status == Status.FAILED
    assert prediction.error == jobs.GENERIC_FAILURE
    assert prediction.input_error is False  # a bug may be fixed: trying again can help


@pytest.mark.django_db
@pytest.mark.parametrize(
    "error",
    [
        audio.TooShortError("The audio lasts 1.0 s; at least 3 s are needed."),
        audio.NotAudioError("The file is not audio in a format we can read."),
        NoPreview(provider="deezer"),
    ],
)
def test_a_song_that_cannot_be_analysed_is_marked_as_an_input_error(user, wav_upload, monkeypatch, error):
    prediction = services.prediction_create_from_upload(user=user, upload=wav_upload)

    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr("worker.predictor.get_predictor", refuse)
    predict_genre_task.apply(args=(prediction.pk,))
    prediction.refresh_from_db()
    assert prediction.status == Status.FAILED
    assert prediction.input_error is True


@pytest.mark.django_db
def test_the_sweep_requeues_forgotten_pending_jobs_and_fails_stuck_running_ones(
    user, filesystem_broker, settings
):
    now = timezone.now()
    forgotten = PredictionFactory(owner=user)
    fresh = PredictionFactory(owner=user)
    stuck = PredictionFactory(owner=user)
    Prediction.objects.filter(pk=forgotten.pk).update(created_at=now - timedelta(minutes=10))
    Prediction.objects.filter(pk=fresh.pk).update(queued_at=now)
    # Still beating, but past every time limit: the backstop fails it.
    Prediction.objects.filter(pk=stuck.pk).update(
        status=Status.RUNNING,
        started_at=now - timedelta(seconds=settings.PREDICTION_STALE_AFTER + 1),
        heartbeat_at=now,
    )

    report = jobs.prediction_sweep(now=now)

    assert (report.requeued, report.failed) == (1, 1)
    forgotten.refresh_from_db()
    stuck.refresh_from_db()
    assert forgotten.queued_at is not None
    assert stuck.status == Status.FAILED
    assert stuck.error == jobs.STALE_FAILURE
    assert len(list((filesystem_broker / "queue").iterdir())) == 1


def test_the_sweep_sends_again_a_spectrogram_whose_message_was_lost(user, filesystem_broker, settings):
    now = timezone.now()
    long_ago = now - timedelta(seconds=settings.PREDICTION_REQUEUE_AFTER + 1)
    lost = DonePredictionFactory(owner=user, finished_at=long_ago)
    lost.spectrogram_mel.save("lost.npz", ContentFile(b"mel"))
    just_done = DonePredictionFactory(owner=user, finished_at=now)
    just_done.spectrogram_mel.save("fresh.npz", ContentFile(b"mel"))
    could_not = DonePredictionFactory(owner=user, finished_at=long_ago, spectrogram_failed=True)
    could_not.spectrogram_mel.save("bad.npz", ContentFile(b"mel"))

    report = jobs.prediction_sweep(now=now)

    assert report.pictures == 1  # only the lost one: the fresh one may still be queued
    assert len(list((filesystem_broker / "queue").iterdir())) == 1


@pytest.mark.django_db
def test_rerun_makes_a_new_linked_row_and_keeps_the_old_result(user, wav_upload, fake_predictor):
    original = services.prediction_create_from_upload(user=user, upload=wav_upload)
    predict_genre_task.apply(args=(original.pk,))
    rerun = services.prediction_rerun(prediction=original)
    assert rerun.pk != original.pk
    assert rerun.rerun_of == original
    assert rerun.status == Status.PENDING
    assert rerun.upload.open("rb").read() == original.upload.open("rb").read()
    original.refresh_from_db()
    assert original.status == Status.DONE


@pytest.mark.django_db
def test_delete_removes_the_row_and_its_files(user, wav_upload, fake_predictor):
    prediction = services.prediction_create_from_upload(user=user, upload=wav_upload)
    predict_genre_task.apply(args=(prediction.pk,))
    prediction.refresh_from_db()
    prediction.spectrogram.save("s.png", ContentFile(b"\x89PNG drawn"))  # beside the mel not yet deleted
    storage = prediction.upload.storage
    names = [prediction.upload.name, prediction.spectrogram_mel.name, prediction.spectrogram.name]
    services.prediction_delete(prediction=prediction)
    assert not Prediction.objects.filter(pk=prediction.pk).exists()
    assert not any(storage.exists(name) for name in names)


@pytest.mark.django_db
def test_a_rerun_shares_the_upload_and_deleting_one_keeps_it_for_the_other(
    user, wav_upload, filesystem_broker
):
    original = services.prediction_create_from_upload(user=user, upload=wav_upload)
    rerun = services.prediction_rerun(prediction=original)
    assert rerun.upload.name == original.upload.name
    services.prediction_delete(prediction=original)
    assert rerun.upload.storage.exists(rerun.upload.name)


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_back_the_sweep_sends_the_saved_job_and_a_worker_finishes_it(
    user, wav_upload, redis_url, fake_predictor
):
    with broker_configured(f"redis://127.0.0.1:{free_port()}/0"):
        prediction = services.prediction_create_from_upload(user=user, upload=wav_upload)
    assert Prediction.objects.get(pk=prediction.pk).queued_at is None
    Prediction.objects.filter(pk=prediction.pk).update(created_at=timezone.now() - timedelta(minutes=5))

    with broker_configured(redis_url), running_worker():
        assert jobs.prediction_sweep().requeued == 1
        finished = wait_until(lambda: Prediction.objects.get(pk=prediction.pk).status == Status.DONE)
    assert finished


# --- An upload's file name is a title, never a path (issue 18.1, 18.11) ------------------------

RANDOM_NAME = re.compile(r"uploads/\d{4}/\d{2}/[A-Za-z0-9_-]{24}\.wav")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("My_Song.wav", "My Song"),
        ("evil.html", "evil"),
        ("𝄞" * 250 + ".wav", "𝄞" * 250),  # 4-byte UTF-8: 1,000 bytes, far over a file name's 255
        ("song." + "x" * 200, "song"),
        ("...wav", "Uploaded song"),
        ("C:\\Users\\ada\\take 3.wav", "take 3"),
    ],
)
def test_an_upload_is_stored_under_a_random_name_with_the_sniffed_extension(user, name, title):
    prediction = services.prediction_create_from_upload(
        user=user, upload=SimpleUploadedFile(name, sine_wav(1.0))
    )

    assert RANDOM_NAME.fullmatch(prediction.upload.name), prediction.upload.name
    assert prediction.title == title
    assert prediction.upload.read(4) == b"RIFF"


@pytest.mark.django_db
def test_two_uploads_of_the_same_name_get_unguessable_different_names(user):
    names = {
        services.prediction_create_from_upload(
            user=user, upload=SimpleUploadedFile("a.wav", sine_wav(1.0))
        ).upload.name
        for _ in range(3)
    }

    assert len(names) == 3
