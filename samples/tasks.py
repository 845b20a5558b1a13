"""Celery tasks of the samples app: thin, ids only; the work is in samples.services."""

from __future__ import annotations

import logging

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task(name="samples.build_pack_zip", ignore_result=True)
def pack_export_build_task(export_id: int) -> None:
    from .services import pack_export_build, pack_export_fail

    try:
        pack_export_build(export_id=export_id)
    except Exception:
        log.exception("Pack ZIP %s crashed", export_id)
        pack_export_fail(export_id=export_id, message="The ZIP could not be built; try again.")
        raise


@shared_task(name="samples.refresh_index", ignore_result=True)
def index_refresh_task() -> None:
    from .services import index_refresh

    report = index_refresh()
    log.info("Freesound index: %s", report)


@shared_task(name="samples.retry_recommendations", ignore_result=True)
def recommendations_retry_task(prediction_id: int, attempt: int) -> None:
    from .services import recommendations_retry

    recommendations_retry(prediction_id=prediction_id, attempt=attempt)
