"""Celery tasks of the samples app: thin, ids only; the work is in the app's service modules
(services, stage, freesound_index, exports, indexing, conform.conforming).

Those modules send these tasks by name (their *_TASK constants), so this module may import them
without an import cycle. Their queues are in settings ("Queues and the beat schedule"): the audio
index on `ml-background`, pack ZIPs and renders on `renders`, the sweeps on `sweeps`, the rest on
the I/O workers' `celery`.
"""

from __future__ import annotations

import logging

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from core.jobs import DATABASE_ERRORS, job_retry, job_task, worker_name

from . import expiry, exports, freesound_index, indexing, services, stage
from .conform import conforming

log = logging.getLogger(__name__)


@shared_task(bind=True, name=stage.RECOMMEND_TASK, ignore_result=True)
def recommendations_for_prediction_task(self: Task, prediction_id: int) -> None:
    stage.recommendation_run(
        prediction_id=prediction_id, job_id=self.request.id or "", worker=worker_name(self.request.hostname)
    )


# A job row's task (core.jobs.job_task), like the prediction's: a worker that dies mid-build leaves
# the message on the broker, and the row's heartbeat tells the sweep to send the build again.
@job_task(name=exports.BUILD_PACK_ZIP_TASK, ignore_result=True)
def pack_export_build_task(self: Task, export_id: int) -> None:
    try:
        exports.pack_export_build(
            export_id=export_id, job_id=self.request.id or "", worker=worker_name(self.request.hostname)
        )
    except exports.ExportRetry as exc:
        job_retry(self, exc, give_up=lambda _message: _fail(export_id), label=f"Pack ZIP {export_id}")
    except Exception:
        log.exception("Pack ZIP %s crashed", export_id)
        try:
            _fail(export_id)
        except DATABASE_ERRORS:
            log.warning("Pack ZIP %s: could not record the failure; the sweep will", export_id)
        raise


def _fail(export_id: int) -> None:
    exports.pack_export_fail(export_id=export_id, message=exports.EXPORT_FAILURE)


@shared_task(name=exports.SWEEP_EXPORTS_TASK, ignore_result=True)
def pack_export_sweep_task() -> None:
    report = exports.pack_export_sweep()
    if report.requeued or report.recovered or report.failed:
        log.info("Pack ZIP sweep: %s", report)


@shared_task(name=expiry.EXPIRE_FILES_TASK, ignore_result=True)
def files_expire_task() -> None:
    report = expiry.files_expire()
    if report.renders or report.exports:
        log.info("Expiry: %s", report)


@shared_task(name=freesound_index.REFRESH_INDEX_TASK, ignore_result=True)
def index_refresh_task() -> None:
    report = freesound_index.index_refresh()
    log.info("Freesound index: %s", report)


@shared_task(name=services.RETRY_RECOMMENDATIONS_TASK, ignore_result=True)
def recommendations_retry_task(prediction_id: int, attempt: int) -> None:
    stage.recommendations_retry(prediction_id=prediction_id, attempt=attempt)


@shared_task(name=stage.SWEEP_RUNS_TASK, ignore_result=True)
def recommendation_run_sweep_task() -> None:
    report = stage.recommendation_run_sweep()
    if report.requeued or report.failed:
        log.info("Samples sweep: %s sent again, %s stale ones failed", report.requeued, report.failed)


# On the `ml-background` queue (CELERY_TASK_ROUTES), which the ML workers take after `ml`. A job
# row's task: a worker that dies mid-batch leaves the message for another; the work itself (pending
# sounds) is in the database.
@job_task(name=indexing.AUDIO_INDEX_TASK, ignore_result=True)
def audio_index_task(self: Task, run_id: int | None = None) -> None:
    # One batch per message (time_limit 0), then the next batch is a new message at the back of the
    # background queue: a song sent meanwhile runs first, so it waits for one batch at most.
    run = indexing.audio_index_run(
        job_id=self.request.id or "",
        worker=worker_name(self.request.hostname),
        run_id=run_id,
        time_limit=0.0,
        carry_on=True,
    )
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
def conformed_render_task(render_id: int, user_id: int | None = None) -> None:
    try:
        # user_id: whose quota the bytes count against, and whose Freesound account fetches an original.
        conforming.render_run(render_id=render_id, user_id=user_id)
    except SoftTimeLimitExceeded:
        conforming.render_fail(
            render_id=render_id,
            message=f"Rendering took longer than {settings.CONFORM_TIME_LIMIT} s and was stopped.",
        )
    except Exception:
        log.exception("Render %s crashed", render_id)
        conforming.render_fail(render_id=render_id, message="The render failed on the server; try again.")
        raise
