"""Celery tasks of the samples app: thin, ids only; the work is in samples.services.

The services send these tasks by name (services.*_TASK), so this module may import the services
without an import cycle. None is routed to the ML queue: they run on the I/O workers.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from . import conforming, services

log = logging.getLogger(__name__)


@shared_task(name=services.RECOMMEND_TASK, ignore_result=True)
def recommendations_for_prediction_task(prediction_id: int) -> None:
    services.recommendation_run(prediction_id=prediction_id)


@shared_task(name=services.BUILD_PACK_ZIP_TASK, ignore_result=True)
def pack_export_build_task(export_id: int) -> None:
    try:
        services.pack_export_build(export_id=export_id)
    except Exception:
        log.exception("Pack ZIP %s crashed", export_id)
        services.pack_export_fail(export_id=export_id, message="The ZIP could not be built; try again.")
        raise


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
