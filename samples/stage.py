"""The samples stage of a prediction: its RecommendationRun from pending to done or failed (start,
restart after a correction, send, sweep, run, finish), and the retry of a throttled first attempt.
A failure here ends the stage, never the prediction, which stays done with its analysis."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from django.db import transaction
from django.utils import timezone

from core.jobs import SweepReport, job_claim, job_fail, job_finish, job_sweep, task_send
from predictions.models import Prediction

from .models import Recommendation, RecommendationRun
from .selectors import recommendation_run_for, samples_message_for
from .services import recommendations_create_for_prediction, recommendations_retry_schedule

log = logging.getLogger(__name__)

RETRY_ATTEMPTS = 3
SAMPLES_FAILURE = "Samples could not be fetched this time. Use “More like these” to try again."

# The tasks (samples/tasks.py) are sent by name: the tasks module imports this one. They run on
# the I/O workers (the default `celery` queue).
RECOMMEND_TASK = "samples.recommend_for_prediction"
SWEEP_RUNS_TASK = "samples.sweep_runs"


def recommendation_run_start(*, prediction_id: int) -> None:
    """A prediction is done: record its samples stage as pending and send it to the I/O workers
    once the transaction commits."""
    RecommendationRun.objects.get_or_create(prediction_id=prediction_id)
    transaction.on_commit(partial(recommendation_run_enqueue, prediction_id=prediction_id))


@transaction.atomic
def recommendation_run_restart(*, prediction_id: int) -> None:
    """The user corrected the song's tempo, key or genre: the samples shown no longer follow it, so
    they go and the stage runs again with the corrected values (the page shows "Finding samples…"
    until then). Saved packs keep their sounds: they hold sounds, not recommendations."""
    if not Prediction.objects.filter(pk=prediction_id, status=Prediction.Status.DONE).exists():
        return
    Recommendation.objects.filter(prediction_id=prediction_id).delete()
    RecommendationRun.objects.update_or_create(
        prediction_id=prediction_id,
        defaults={
            "status": RecommendationRun.Status.PENDING,
            "message": "",
            "reason": RecommendationRun.Reason.NONE,
            "queued_at": None,
            "started_at": None,
            "finished_at": None,
        },
    )
    transaction.on_commit(partial(recommendation_run_enqueue, prediction_id=prediction_id))


def recommendation_run_enqueue(*, prediction_id: int) -> bool:
    """Send the samples task. A broker outage leaves the stage pending (the analysis is shown
    anyway) for the sweep to send again, so this logs and returns False instead of raising."""
    if not task_send(
        RECOMMEND_TASK, prediction_id, waiting=f"samples for prediction {prediction_id} wait for the sweep"
    ):
        return False
    RecommendationRun.objects.filter(
        prediction_id=prediction_id, status=RecommendationRun.Status.PENDING
    ).update(queued_at=timezone.now())
    return True


def recommendation_run_sweep(*, now: datetime | None = None) -> SweepReport:
    """Send pending samples stages again whose message may be lost, and fail running ones whose
    worker is gone, so no page says "Finding samples…" for ever (core.jobs.job_sweep)."""
    return job_sweep(
        RecommendationRun.objects.all(),
        send=lambda prediction_id: recommendation_run_enqueue(prediction_id=prediction_id),
        key="prediction_id",
        stale_message=SAMPLES_FAILURE,
        now=now,
    )


def recommendation_run(*, prediction_id: int, job_id: str = "", worker: str = "") -> None:
    """The samples stage. Claims its row (pending → running) so a duplicate message is a no-op;
    any failure ends the stage, never the prediction, which stays done with its analysis."""
    job_id = job_id or f"local-{prediction_id}"
    rows = RecommendationRun.objects.filter(prediction_id=prediction_id)
    if not job_claim(rows, job_id=job_id, worker=worker):
        log.info("Samples for prediction %s are not pending; nothing to do", prediction_id)
        return
    prediction = Prediction.objects.get(pk=prediction_id)
    try:
        # A run makes the first batch from the song's values as they are now; anything left from an
        # earlier run (the values were corrected since) is replaced.
        Recommendation.objects.filter(prediction=prediction).delete()
        recommendations_create_for_prediction(prediction=prediction, batch=0)
    except Exception:  # a bug or the time limit: the stage fails, the prediction stays done
        log.exception("Recommendations failed for prediction %s", prediction_id)
        job_fail(rows, job_id=job_id, message=SAMPLES_FAILURE)
        return
    job_finish(rows, job_id=job_id)


def recommendations_retry(*, prediction_id: int, attempt: int) -> None:
    """A throttled first attempt, tried again later (only while the prediction still has none)."""
    prediction = Prediction.objects.filter(pk=prediction_id, status=Prediction.Status.DONE).first()
    if prediction is None or prediction.recommendations.exists():
        return
    existing_message = samples_message_for(prediction=prediction)
    created = recommendations_create_for_prediction(prediction=prediction, batch=0)
    run = recommendation_run_for(prediction=prediction)
    throttled = run is not None and run.reason == RecommendationRun.Reason.THROTTLED
    if not created and attempt < RETRY_ATTEMPTS and throttled:
        recommendations_retry_schedule(prediction_id, 15 * 60 * attempt, attempt=attempt + 1)
    log.info(
        "Samples retry %s for prediction %s: %s (was: %s)",
        attempt,
        prediction_id,
        len(created),
        existing_message,
    )
