"""Versions, promotion and per-job reload with a real worker process (prefork, Redis, the real model):
a promoted version reaches a running worker on its next job, without a restart."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from predictions import learning, services
from predictions.models import Prediction
from sevenfour_site.ml_worker import loaded_modules_task
from tests.conftest import broker_configured, start_worker_process, wait_until
from tests.predictions.factories import DonePredictionFactory
from tests.predictions.test_jobs_real import SHORT_HEARTBEATS

pytestmark = [pytest.mark.model, pytest.mark.django_db(transaction=True)]


def _predict(user, upload, log_path: Path) -> Prediction:
    prediction = services.prediction_create_from_upload(user=user, upload=upload)
    finished = wait_until(lambda: Prediction.objects.get(pk=prediction.pk).is_finished, timeout=180)
    assert finished, log_path.read_text()[-4000:]
    prediction.refresh_from_db()
    assert prediction.status == Prediction.Status.DONE, prediction.error
    return prediction


def test_a_promoted_version_serves_the_next_job_of_a_running_worker(
    user, wav_upload, redis_url, tmp_path, settings
):
    settings.VAR_DIR = tmp_path / "var"
    settings.GENRE_MODEL_DIR = ""
    log_path = tmp_path / "worker.log"
    worker = start_worker_process(redis_url, log_path, name="learner", env=SHORT_HEARTBEATS)
    try:
        with broker_configured(redis_url):
            first = _predict(user, wav_upload, log_path)
            assert (first.model_name, first.model_version) == ("musicnn-prototypes-7", "1.0.0")
            assert len(first.backbone_output["embedding"]) == 400

            # Two reviewed predictions with its backbone output: one to learn from, and one held
            # back to evaluate on (ids that are multiples of HOLDBACK_EVERY are held back; fixed
            # ids here, since the first prediction's own id depends on the tests run before).
            for pk in (1001, 1000):
                DonePredictionFactory(
                    id=pk, reviewed_genre=first.top_genre, backbone_output=first.backbone_output
                )
            version = learning.model_version_build()
            assert version.heldout_files == 1
            learning.model_version_promote(version)

            wav_upload.seek(0)
            second = _predict(user, wav_upload, log_path)
            assert (second.model_name, second.model_version) == ("musicnn-fewshot-7", version.version)
            assert second.worker == first.worker  # the same worker process, never restarted
            # The few-shot head works on the serving runtime's output: still no TensorFlow.
            report_path = tmp_path / "modules.json"
            loaded_modules_task.apply_async(args=(str(report_path),))
            assert wait_until(report_path.exists, timeout=60), log_path.read_text()[-4000:]
            assert "tensorflow" not in json.loads(report_path.read_text())["loaded"]

            # Back to the shipped default (evaluated first): the next job serves it again.
            shipped = learning.model_version_evaluate(learning.model_versions_register_shipped()[0])
            learning.model_version_promote(shipped)
            wav_upload.seek(0)
            third = _predict(user, wav_upload, log_path)
            assert (third.model_name, third.model_version) == ("musicnn-prototypes-7", "1.0.0")
            assert third.worker == first.worker
        assert worker.poll() is None  # still the process started above
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
