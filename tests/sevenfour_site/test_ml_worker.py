"""Real `celery worker` processes: the model is ready before the first job, serving it imports no
TensorFlow, no matplotlib and no Pillow (an I/O worker draws the spectrogram)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from predictions import learning, services
from predictions.models import Prediction
from sevenfour_site.health import check_model
from sevenfour_site.ml_worker import loaded_modules_task, ready_info
from tests.accounts.factories import UserFactory
from tests.conftest import broker_configured, start_worker_process, wait_until
from tests.predictions.test_learning import reviewed
from worker.audio import synth

pytestmark = [pytest.mark.model, pytest.mark.django_db(transaction=True)]


def _upload(tmp_path: Path) -> SimpleUploadedFile:
    path = tmp_path / "song.wav"
    mix = synth.drums_and_bass(20.0, seed=5) + 0.6 * synth.piano_piece(20.0, seed=6)
    sf.write(path, mix.astype(np.float32), synth.SR)
    return SimpleUploadedFile("song.wav", path.read_bytes(), content_type="audio/wav")


def test_worker_loads_the_model_before_the_first_job_and_serves_without_tensorflow(
    user, redis_url, tmp_path, client
):
    log_path = tmp_path / "worker.log"
    proc = start_worker_process(redis_url, log_path, name="ml", queues="ml")
    io_proc = start_worker_process(redis_url, tmp_path / "io-worker.log", name="io", queues="celery")
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


def test_a_pool_process_preloads_the_promoted_version(redis_url, tmp_path, settings):
    """The backbone is every version's; the head preloaded at the start is the one its jobs serve."""
    settings.VAR_DIR = tmp_path / "var"
    for pk in (1, 10):  # one to learn from, one held back to evaluate on
        reviewed(pk, "rock")
    version = learning.model_version_promote(learning.model_version_build())
    log_path = tmp_path / "worker.log"
    proc = start_worker_process(redis_url, log_path, name="ml", queues="ml", env={"GENRE_MODEL_DIR": ""})
    try:
        with broker_configured(redis_url):
            ready = wait_until(lambda: check_model()[0], timeout=300, interval=0.5)
            assert ready, log_path.read_text()[-4000:]
            report_path = tmp_path / "modules.json"  # run in the pool process: no job, no predictor
            loaded_modules_task.apply_async(args=(str(report_path),), queue="ml")
            assert wait_until(report_path.exists, timeout=60), log_path.read_text()[-4000:]
        preloaded = ready_info(json.loads(report_path.read_text())["pid"])
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)

    assert preloaded is not None
    assert preloaded["model"] == f"musicnn-fewshot-7 {version.version}"
    assert (preloaded["artifact_dir"], preloaded["source"]) == (version.artifact_dir, learning.PROMOTED)
    assert f"; musicnn-fewshot-7 {version.version}, the promoted version)" in log_path.read_text()
