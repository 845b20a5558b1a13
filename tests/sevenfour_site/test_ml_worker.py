"""Real `celery worker` processes: the model is ready before the first job, serving it imports no
TensorFlow, no matplotlib and no Pillow (an I/O worker draws the spectrogram)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from predictions import services
from predictions.models import Prediction
from sevenfour_site.health import check_model
from sevenfour_site.ml_worker import loaded_modules_task, ready_info
from tests.conftest import broker_configured, wait_until
from tests.predictions.factories import UserFactory
from worker import synth

pytestmark = [pytest.mark.model, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER'] or ''}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_worker(redis_url: str, log_path: Path, queues: str, name: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sevenfour_site.test_settings",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_url,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    command = [sys.executable, "-m", "celery", "-A", "sevenfour_site", "worker", "--pool", "prefork",
               "--concurrency", "1", "--queues", queues, "--hostname", f"{name}@%h", "--loglevel", "INFO",
               "--without-gossip", "--without-mingle"]  # fmt: skip
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _upload(tmp_path: Path) -> SimpleUploadedFile:
    path = tmp_path / "song.wav"
    mix = synth.drums_and_bass(20.0, seed=5) + 0.6 * synth.piano_piece(20.0, seed=6)
    sf.write(path, mix.astype(np.float32), synth.SR)
    return SimpleUploadedFile("song.wav", path.read_bytes(), content_type="audio/wav")


def test_worker_loads_the_model_before_the_first_job_and_serves_without_tensorflow(
    user, redis_url, tmp_path, client
):
    log_path = tmp_path / "worker.log"
    proc = _start_worker(redis_url, log_path, "ml", "ml")
    io_proc = _start_worker(redis_url, tmp_path / "io-worker.log", "celery", "io")
    try:
        with broker_configured(redis_url):
            # Ready with no job submitted yet: the pool process loaded the model at start.
            ready = wait_until(lambda: check_model()[0], timeout=300, interval=0.5)
            assert ready, log_path.read_text()[-4000:]
            detail = check_model()[1]
            assert "model ready in 1 of 1 ML processes" in detail
            client.force_login(UserFactory(username="staff", is_staff=True))  # the full report is staff's
            health = client.get(reverse("healthz")).json()
            assert health["checks"]["model"]["ok"] is True, health

            prediction = services.prediction_create_from_upload(user=user, upload=_upload(tmp_path))
            finished = wait_until(lambda: Prediction.objects.get(pk=prediction.pk).is_finished, timeout=180)
            assert finished, log_path.read_text()[-4000:]
            prediction.refresh_from_db()
            assert prediction.status == Prediction.Status.DONE, prediction.error
            # The served runtime's clip output is stored for the learning loop, in the reference's shape.
            stored = prediction.backbone_output
            assert [len(stored[k]) for k in ("msd", "mtt", "embedding")] == [50, 50, 400]
            assert all(0.0 <= p <= 1.0 for p in stored["msd"] + stored["mtt"])

            # The I/O worker draws the picture from the mel the ML job saved.
            drawn = wait_until(lambda: Prediction.objects.get(pk=prediction.pk).spectrogram, timeout=60)
            assert drawn, (tmp_path / "io-worker.log").read_text()[-4000:]

            report_path = tmp_path / "modules.json"
            loaded_modules_task.apply_async(args=(str(report_path),), queue="ml")
            assert wait_until(report_path.exists, timeout=60), log_path.read_text()[-4000:]
        report = json.loads(report_path.read_text())
        assert f"({ready_info(report['pid'])['runtime']})" in detail
    finally:
        for worker in (proc, io_proc):
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in (proc, io_proc):
            worker.wait(timeout=60)

    assert report["model_loaded"] is True  # the process that served the prediction
    assert ready_info(report["pid"]) is None  # the readiness file goes with the process
    assert "onnxruntime" in report["loaded"] or "openvino" in report["loaded"]
    assert "tensorflow" not in report["loaded"]
    assert "keras" not in report["loaded"]
    assert "matplotlib" not in report["loaded"]
    assert "PIL" not in report["loaded"]
