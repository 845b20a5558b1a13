"""Celery tasks of the predictions app. Thin: each takes an id, calls a service, and decides about retries.

The services send these tasks by name (services.PREDICT_GENRE_TASK), so this module may import
the services without an import cycle.
"""

from __future__ import annotations

import logging
from dataclasses import asdict

from celery import Task, shared_task
from celery.exceptions import MaxRetriesExceededError, SoftTimeLimitExceeded
from django.conf import settings

from core.jobs import DATABASE_ERRORS, worker_name

from . import services

log = logging.getLogger(__name__)


def retry_countdown(retries: int, retry_after: int | None) -> int:
    """Seconds before the next try: what the provider asked for, else 10 s doubling to 5 min."""
    if retry_after:
        return max(1, int(retry_after))
    return min(300, 10 * 2**retries)


# acks_late + reject_on_worker_lost: a worker that dies mid-job leaves the message on the broker,
# and its redelivery takes the job over once the row's heartbeat has stopped (see
# predictions.services.prediction_claim); the sweep does not wait for it and sends the job again.
@shared_task(
    bind=True,
    name=services.PREDICT_GENRE_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,  # bounded by settings.PREDICTION_MAX_RETRIES below
)
def predict_genre_task(self: Task, prediction_id: int) -> None:
    job_id = self.request.id or f"local-{prediction_id}"
    try:
        services.prediction_run(
            prediction_id=prediction_id, job_id=job_id, worker=worker_name(self.request.hostname)
        )
    except services.TransientJobError as exc:
        if self.request.retries >= settings.PREDICTION_MAX_RETRIES:
            _fail_quietly(prediction_id, f"{exc} We gave up after several tries.")
            return
        countdown = retry_countdown(self.request.retries, exc.retry_after)
        if exc.database:
            # The row may still be held by this job id: wait until its heartbeat counts as stopped.
            countdown = max(countdown, settings.PREDICTION_HEARTBEAT_TIMEOUT + 1)
        log.info("Prediction %s: %s; retrying in %s s", prediction_id, exc, countdown)
        try:
            raise self.retry(countdown=countdown, max_retries=settings.PREDICTION_MAX_RETRIES) from exc
        except MaxRetriesExceededError:
            _fail_quietly(prediction_id, str(exc))
    except SoftTimeLimitExceeded:
        services.prediction_fail(prediction_id=prediction_id, job_id=job_id, message=services.STALE_FAILURE)


def _fail_quietly(prediction_id: int, message: str) -> None:
    """Fail the row; if the database is what keeps failing, the sweep fails the row later."""
    try:
        services.prediction_fail(prediction_id=prediction_id, message=message)
    except DATABASE_ERRORS:
        log.warning("Prediction %s: could not record the failure; the sweep will", prediction_id)


@shared_task(name=services.SWEEP_PREDICTIONS_TASK)
def sweep_predictions_task() -> dict[str, int]:
    return asdict(services.prediction_sweep())


# The I/O queue (the default route): drawing needs Pillow and matplotlib, which ML worker processes skip.
@shared_task(bind=True, name=services.RENDER_SPECTROGRAM_TASK, max_retries=5)
def render_spectrogram_task(self: Task, prediction_id: int) -> None:
    try:
        services.prediction_spectrogram_render(prediction_id=prediction_id)
    except DATABASE_ERRORS as exc:
        raise self.retry(countdown=retry_countdown(self.request.retries, None)) from exc
