"""The real thing: real Celery workers on the real Redis broker, running the real TensorFlow model."""

from __future__ import annotations

import os
import signal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from predictions import jobs, services
from predictions.models import Prediction
from tests.conftest import broker_configured, running_worker, start_worker_process, wait_until
from tests.predictions.conftest import wav_bytes

pytestmark = [pytest.mark.model, pytest.mark.django_db(transaction=True)]

Status = Prediction.Status


def test_an_uploaded_clip_reaches_done_with_the_real_model(user, wav_upload, redis_url):
    with broker_configured(redis_url), running_worker():
        prediction = services.prediction_create_from_upload(user=user, upload=wav_upload)
        finished = wait_until(lambda: Prediction.objects.get(pk=prediction.pk).is_finished, timeout=180)
        # The picture is drawn after the analysis, by the I/O queue's task.
        wait_until(lambda: Prediction.objects.get(pk=prediction.pk).spectrogram, timeout=60)
    assert finished
    prediction.refresh_from_db()
    assert prediction.status == Status.DONE, prediction.error
    assert sum(prediction.genre_scores.values()) == pytest.approx(1.0, abs=1e-4)
    assert prediction.top_genre == max(prediction.genre_scores, key=prediction.genre_scores.get)
    assert prediction.tempo_bpm is not None
    assert prediction.key.endswith(("major", "minor"))
    assert prediction.model_version
    assert prediction.patches_read in (2, 4)  # a 12 s clip is 4 patches: the first half, or all
    assert prediction.spectrogram.open("rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert not prediction.spectrogram_mel  # the mel is deleted once drawn


def test_bad_audio_fails_with_its_message(user, text_upload, redis_url):
    with broker_configured(redis_url), running_worker():
        prediction = services.prediction_create_from_upload(user=user, upload=text_upload)
        finished = wait_until(lambda: Prediction.objects.get(pk=prediction.pk).is_finished, timeout=120)
    assert finished
    prediction.refresh_from_db()
    assert prediction.status == Status.FAILED
    assert "audio" in prediction.error.lower()
    assert prediction.error != jobs.GENERIC_FAILURE


# The production visibility timeout (longer than the time limit) stays: the dead worker's job must
# not wait for the broker. Heartbeats and the sweep are short so the test is.
SHORT_HEARTBEATS = {
    "PREDICTION_HEARTBEAT_INTERVAL": "1",
    "PREDICTION_HEARTBEAT_TIMEOUT": "4",
    "SWEEP_INTERVAL": "2",
}


def test_a_job_whose_whole_worker_is_killed_is_finished_by_a_new_worker_within_two_minutes(
    user, redis_url, tmp_path
):
    log_path = tmp_path / "workers.log"
    # The job must still be running when the test kills its worker. A 30 s clip read whole (all ten
    # patches, one model thread) keeps it running for about 0.3 s, against about 0.1 s for a short
    # clip read the default way, and the test looks every 5 ms.
    slow = {"SEVENFOUR_MODEL_EARLY_EXIT": "0", "SEVENFOUR_MODEL_THREADS": "1"}
    first = start_worker_process(redis_url, log_path, name="first", env={**SHORT_HEARTBEATS, **slow})
    second = None
    upload = SimpleUploadedFile("my song.wav", wav_bytes(tmp_path, seconds=30.0), content_type="audio/wav")
    try:
        with broker_configured(redis_url):
            prediction = services.prediction_create_from_upload(user=user, upload=upload)
        started = wait_until(
            lambda: Prediction.objects.get(pk=prediction.pk).status == Status.RUNNING,
            timeout=120,
            interval=0.005,
        )
        assert started, log_path.read_text()
        os.killpg(first.pid, signal.SIGKILL)  # the whole worker, pool children included, without warning
        first.wait(timeout=30)
        held = Prediction.objects.get(pk=prediction.pk)
        assert held.status == Status.RUNNING
        assert held.worker.startswith("first@")

        # This worker also runs beat, which sends the sweeps.
        second = start_worker_process(
            redis_url, log_path, name="second", beat_dir=tmp_path, env=SHORT_HEARTBEATS
        )
        # Bounded: heartbeat timeout + sweep interval + loading the model and analysing, far below
        # the broker's visibility timeout (CELERY_TASK_TIME_LIMIT + 300 s) the old design waited for.
        finished = wait_until(lambda: Prediction.objects.get(pk=prediction.pk).is_finished, timeout=120)
        assert finished, log_path.read_text()[-4000:]
        prediction.refresh_from_db()
        assert prediction.status == Status.DONE, prediction.error
        assert prediction.attempts == 2
        assert prediction.worker.startswith("second@")
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=60)
