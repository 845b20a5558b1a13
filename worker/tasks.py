"""Celery tasks. Thin: each takes an id, calls a service, and decides about retries."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="worker.ping_db")
def ping_db_task(marker: str) -> None:
    """A trivial task whose effect lands in the database: used to prove the queue works end to end."""
    from worker.models import Heartbeat

    Heartbeat.objects.create(marker=marker)


@shared_task(bind=True, name="worker.predict_genre", acks_late=True)
def predict_genre_task(self, prediction_id: int) -> None:  # type: ignore[no-untyped-def]
    from predictions.services import prediction_run

    prediction_run(prediction_id=prediction_id)
