"""Jobs for catalog tracks: the preview is resolved and fetched from the (fake) Deezer when the job runs."""

from __future__ import annotations

import errno
import os

import pytest
from django.core.files.storage import FileSystemStorage

from predictions import jobs
from predictions.models import Prediction
from predictions.tasks import predict_genre_task
from predictions.uploads import STORAGE_RETRY_AFTER
from tests.predictions.factories import PredictionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog_settings")]

Status = Prediction.Status


def test_a_deezer_track_is_fetched_fresh_and_analysed(user, fake_deezer, fake_predictor):
    prediction = PredictionFactory(owner=user, source_track_id="3135553", isrc="GBDUW0000053")
    predict_genre_task.apply(args=(prediction.pk,))
    prediction.refresh_from_db()
    assert prediction.status == Status.DONE
    assert fake_predictor.calls[0][:4] == b"RIFF"
    assert fake_deezer.calls("/track/3135553")
    assert not any(
        value for value in prediction.__dict__.values() if isinstance(value, str) and "hdnea" in value
    )


def test_a_rate_limited_provider_releases_the_job_with_the_retry_hint(user, fake_deezer, fake_predictor):
    prediction = PredictionFactory(owner=user, source_track_id="3135553")
    fake_deezer.answer_429(retry_after=9, path="/track/")
    with pytest.raises(jobs.TransientJobError) as raised:
        jobs.prediction_run(prediction_id=prediction.pk, job_id="job-a")
    assert raised.value.retry_after == 9
    prediction.refresh_from_db()
    assert prediction.status == Status.PENDING
    assert "retry after 9 s" in prediction.error


def test_a_track_without_a_preview_fails_with_the_upload_hint(user, fake_deezer, fake_predictor):
    prediction = PredictionFactory(
        owner=user, source_track_id="3135560", title="Veridis Quo", isrc="GBDUW0000060"
    )
    predict_genre_task.apply(args=(prediction.pk,))
    prediction.refresh_from_db()
    assert prediction.status == Status.FAILED
    assert prediction.error == "This track has no preview; upload the audio instead."
    assert fake_predictor.calls == []


def test_an_unknown_track_fails_with_a_clear_message(user, fake_deezer, fake_predictor):
    prediction = PredictionFactory(owner=user, source_track_id="1", title="No Such Song", artist="Nobody")
    predict_genre_task.apply(args=(prediction.pk,))
    prediction.refresh_from_db()
    assert prediction.status == Status.FAILED
    assert prediction.error
    assert prediction.error != jobs.GENERIC_FAILURE


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_a_full_or_read_only_storage_puts_a_catalog_pick_back_instead_of_losing_it(
    user, fake_deezer, fake_predictor, monkeypatch, code
):
    """Issue 28.6: with MEDIA_ROOT full or read-only, a catalog pick failed for good when the worker
    saved its analysis. It is now handed back to the queue and done once the storage is back."""
    prediction = PredictionFactory(owner=user, source_track_id="3135553", isrc="GBDUW0000053")

    def refuse(self, name, content):
        raise OSError(code, os.strerror(code))

    with monkeypatch.context() as storage_down:
        storage_down.setattr(FileSystemStorage, "_save", refuse)
        with pytest.raises(jobs.TransientJobError) as raised:
            jobs.prediction_run(prediction_id=prediction.pk, job_id="job-a")
    assert raised.value.retry_after == STORAGE_RETRY_AFTER
    prediction.refresh_from_db()
    assert prediction.status == Status.PENDING
    assert prediction.error == jobs.STORAGE_BUSY

    jobs.prediction_run(prediction_id=prediction.pk, job_id="job-b")  # the storage is back
    prediction.refresh_from_db()
    assert prediction.status == Status.DONE
