"""Celery tasks of the samples app: thin, ids only; the work is in samples.services.

The services send these tasks by name (services.*_TASK), so this module may import the services
without an import cycle. Their queues are in settings ("Queues and the beat schedule"): the audio
index on `ml-background`, pack ZIPs and renders on `renders`, the sweeps on `sweeps`, the rest on
the I/O workers' `celery`.
"""

from __future__ import annotations

import logging

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from core.jobs import DATABASE_ERRORS
from predictions.tasks import retry_countdown

from . import conforming, indexing, services

log = logging.getLogger(__name__)


@shared_task(name=services.RECOMMEND_TASK, ignore_result=True)
def recommendations_for_prediction_task(prediction_id: int) -> None:
    services.recommendation_run(prediction_id=prediction_id)


# acks_late + reject_on_worker_lost, like the prediction task: a worker that dies mid-build leaves
# the message on the broker, and the row's heartbeat tells the sweep to send the build again.
@shared_task(
    bind=True,
    name=services.BUILD_PACK_ZIP_TASK,
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,  # bounded by settings.PREDICTION_MAX_RETRIES below
)
def pack_export_build_task(self: Task, export_id: int) -> None:
    try:
        services.pack_export_build(export_id=export_id, job_id=self.request.id or "")
    except services.ExportRetry as exc:
        if self.request.retries >= settings.PREDICTION_MAX_RETRIES:
            _fail_quietly(export_id, services.EXPORT_FAILURE)
            return
        # The row may still be held by this task id: retry once its heartbeat counts as stopped.
        countdown = max(
            retry_countdown(self.request.retries, None), settings.PREDICTION_HEARTBEAT_TIMEOUT + 1
        )
        log.info("Pack ZIP %s: %s; retrying in %s s", export_id, exc, countdown)
        raise self.retry(countdown=countdown, max_retries=settings.PREDICTION_MAX_RETRIES) from exc
    except Exception:
        log.exception("Pack ZIP %s crashed", export_id)
        _fail_quietly(export_id, services.EXPORT_FAILURE)
        raise


def _fail_quietly(export_id: int, message: str) -> None:
    try:
        services.pack_export_fail(export_id=export_id, message=message)
    except DATABASE_ERRORS:
        log.warning("Pack ZIP %s: could not record the failure; the sweep will", export_id)


@shared_task(name=services.SWEEP_EXPORTS_TASK, ignore_result=True)
def pack_export_sweep_task() -> None:
    report = services.pack_export_sweep()
    if report.requeued or report.recovered or report.failed:
        log.info("Pack ZIP sweep: %s", report)


@shared_task(name=services.REFRESH_INDEX_TASK, ignore_result=True)
def index_refresh_task() -> None:
    report = services.index_refresh()
    log.info("Freesound index: %s", report)


@shared_task(name=services.RETRY_RECOMMENDATIONS_TASK, ignore_result=True)
def recommendations_retry_task(prediction_id: int, attempt: int) -> None:
    services.recommendations_retry(prediction_id=prediction_id, attempt=attempt)


@shared_task(name=services.SWEEP_RUNS_TASK, ignore_result=True)
def recommendation_run_sweep_task() -> None:
    report = services.recommendation_run_sweep()
    if report.requeued or report.failed:
        log.info("Samples sweep: %s sent again, %s stale ones failed", report.requeued, report.failed)


# On the `ml-background` queue (CELERY_TASK_ROUTES), which the ML workers take after `ml`.
# acks_late: a worker that dies mid-batch leaves the message for another; the work itself (pending
# sounds) is in the database.
@shared_task(
    bind=True,
    name=indexing.AUDIO_INDEX_TASK,
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
)
def audio_index_task(self: Task, run_id: int | None = None) -> None:
    # One batch per message (time_limit 0), then the next batch is a new message at the back of the
    # background queue: a song sent meanwhile runs first, so it waits for one batch at most.
    run = indexing.audio_index_run(job_id=self.request.id or "", run_id=run_id, time_limit=0.0, carry_on=True)
    if run is None:
        return  # another run is alive, or took this one over
    log.info("Audio index run %s: %s analysed, %s failed, %s", run.pk, run.analysed, run.failed, run.status)
    if run.status == run.Status.RUNNING:
        indexing.audio_index_enqueue(run.pk)


@shared_task(
    name=conforming.RENDER_TASK,
    ignore_result=True,
    soft_time_limit=settings.CONFORM_TIME_LIMIT,
    time_limit=settings.CONFORM_TIME_LIMIT + 15,
)
def conformed_render_task(render_id: int) -> None:
    try:
        conforming.render_run(render_id=render_id)
    except SoftTimeLimitExceeded:
        conforming.render_fail(
            render_id=render_id,
            message=f"Rendering took longer than {settings.CONFORM_TIME_LIMIT} s and was stopped.",
        )
    except Exception:
        log.exception("Render %s crashed", render_id)
        conforming.render_fail(render_id=render_id, message="The render failed on the server; try again.")
        raise
