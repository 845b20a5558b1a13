"""Celery tasks of the predictions app. Thin: each takes an id, calls a service, and decides about retries.

The services send these tasks by name (services.PREDICT_GENRE_TASK), so this module may import
the services without an import cycle.
"""

from __future__ import annotations

from dataclasses import asdict

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded

from core.jobs import DATABASE_ERRORS, job_retry, job_task, retry_countdown, worker_name

from . import jobs, services


# A job row's task (core.jobs.job_task): a worker that dies mid-job leaves the message on the
# broker for its redelivery, and the sweep sends the job again without waiting for it.
@job_task(name=services.PREDICT_GENRE_TASK)
def predict_genre_task(self: Task, prediction_id: int) -> None:
    job_id = self.request.id or f"local-{prediction_id}"
    try:
        jobs.prediction_run(
            prediction_id=prediction_id, job_id=job_id, worker=worker_name(self.request.hostname)
        )
    except jobs.TransientJobError as exc:
        job_retry(
            self,
            exc,
            give_up=lambda message: jobs.prediction_fail(prediction_id=prediction_id, message=message),
            label=f"Prediction {prediction_id}",
        )
    except SoftTimeLimitExceeded:
        jobs.prediction_fail(prediction_id=prediction_id, job_id=job_id, message=jobs.STALE_FAILURE)


@shared_task(name=services.SWEEP_PREDICTIONS_TASK)
def sweep_predictions_task() -> dict[str, int]:
    return asdict(jobs.prediction_sweep())


# The I/O queue (the default route): drawing needs Pillow and matplotlib, which ML worker processes skip.
@shared_task(bind=True, name=services.RENDER_SPECTROGRAM_TASK, max_retries=5)
def render_spectrogram_task(self: Task, prediction_id: int) -> None:
    try:
        jobs.prediction_spectrogram_render(prediction_id=prediction_id)
    except DATABASE_ERRORS as exc:
        raise self.retry(countdown=retry_countdown(self.request.retries, None)) from exc
