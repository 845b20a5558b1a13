"""The real thing: real Celery workers on the real Redis broker, running the real TensorFlow model."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from predictions import services
from predictions.models import Prediction
from tests.conftest import broker_configured, running_worker, wait_until

pytestmark = [pytest.mark.model, pytest.mark.django_db(transaction=True)]

Status = Prediction.Status
ROOT = Path(__file__).resolve().parents[2]


def test_an_uploaded_clip_reaches_done_with_the_real_model(user, wav_upload, redis_url):
    with broker_configured(redis_url), running_worker():
        prediction = services.prediction_create_from_upload(user=user, upload=wav_upload)
        finished = wait_until(lambda: Prediction.objects.get(pk=prediction.pk).is_finished, timeout=180)
    assert finished
    prediction.refresh_from_db()
    assert prediction.status == Status.DONE, prediction.error
    assert sum(prediction.genre_scores.values()) == pytest.approx(1.0, abs=1e-4)
    assert prediction.top_genre == max(prediction.genre_scores, key=prediction.genre_scores.get)
    assert prediction.tempo_bpm is not None
    assert prediction.key.endswith(("major", "minor"))
    assert prediction.model_version
    assert prediction.spectrogram.open("rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_bad_audio_fails_with_its_message(user, text_upload, redis_url):
    with broker_configured(redis_url), running_worker():
        prediction = services.prediction_create_from_upload(user=user, upload=text_upload)
        finished = wait_until(lambda: Prediction.objects.get(pk=prediction.pk).is_finished, timeout=120)
    assert finished
    prediction.refresh_from_db()
    assert prediction.status == Status.FAILED
    assert "audio" in prediction.error.lower()
    assert prediction.error != services.GENERIC_FAILURE


def _database_url() -> str:
    """The URL of the test database, for worker processes started by the test."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or ""
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_worker_process(redis_url: str, log_path: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sevenfour_site.test_settings",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_url,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        # Hand an unacknowledged message out again after 3 s instead of 15 min, checked every second.
        "CELERY_VISIBILITY_TIMEOUT": "3",
        "CELERY_REDIS_TRANSPORT_OPTIONS": '{"unacked_restore_interval": 1, "unacked_restore_throttle": 1}',
    }
    command = [sys.executable, "-m", "celery", "-A", "sevenfour_site", "worker", "--pool", "prefork",
               "--concurrency", "1", "--queues", "celery,ml", "--loglevel", "INFO", "--without-gossip",
               "--without-mingle"]  # fmt: skip
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def test_a_job_whose_worker_is_killed_mid_task_is_finished_by_a_new_worker(
    user, wav_upload, redis_url, tmp_path
):
    log_path = tmp_path / "workers.log"
    first = _start_worker_process(redis_url, log_path)
    second = None
    try:
        with broker_configured(redis_url):
            prediction = services.prediction_create_from_upload(user=user, upload=wav_upload)
        started = wait_until(
            lambda: Prediction.objects.get(pk=prediction.pk).status == Status.RUNNING, timeout=120
        )
        assert started, log_path.read_text()
        os.killpg(first.pid, signal.SIGKILL)  # the whole worker, pool children included, without warning
        first.wait(timeout=30)
        assert Prediction.objects.get(pk=prediction.pk).status == Status.RUNNING

        second = _start_worker_process(redis_url, log_path)
        finished = wait_until(lambda: Prediction.objects.get(pk=prediction.pk).is_finished, timeout=240)
        assert finished, log_path.read_text()[-4000:]
        prediction.refresh_from_db()
        assert prediction.status == Status.DONE, prediction.error
        assert prediction.attempts == 2
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=60)
