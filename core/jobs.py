"""Job rows (core.models.JobRow) and the tasks that hold them: claim, heartbeat, release, fail and
sweep, and the task options and retries they share.

Every transition is a conditional UPDATE, so two workers can never both own a job and a late or
duplicate message can never overwrite a finished one. A worker that holds a job row writes a
heartbeat on it every few seconds from a thread beside the task. When the worker's host dies
(kill -9, power loss) the heartbeat stops, and the sweep hands the job to another worker after a
bounded time, instead of waiting for the broker's visibility timeout or failing the job.

The helpers take a queryset of the app's rows (usually one row: `Model.objects.filter(pk=...)`)
and write only the job's columns, plus the model's `idle_fields` and what the caller adds.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from celery import Task, shared_task, signature
from celery.exceptions import MaxRetriesExceededError
from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from .models import JobRow, JobStatus

log = logging.getLogger(__name__)

Row = TypeVar("Row", bound=JobRow)

# The database went away (restart, failover, network): the job may succeed when it is back.
DATABASE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)


def heartbeat_deadline(now: datetime) -> datetime:
    """Heartbeats older than this mean the holding worker is gone (PREDICTION_HEARTBEAT_TIMEOUT)."""
    return now - timedelta(seconds=settings.PREDICTION_HEARTBEAT_TIMEOUT)


def heartbeat_stopped(now: datetime) -> Q:
    """Rows (with heartbeat_at) whose holder may be taken over: it stopped beating, or never beat."""
    return Q(heartbeat_at__lt=heartbeat_deadline(now)) | Q(heartbeat_at__isnull=True)


def orphaned(now: datetime) -> Q:
    """Running rows (with heartbeat_at and started_at) whose worker is gone: it stopped beating, or
    it never beat and started before the deadline."""
    deadline = heartbeat_deadline(now)
    return Q(heartbeat_at__lt=deadline) | Q(heartbeat_at__isnull=True, started_at__lt=deadline)


def worker_name(hostname: str | None = None) -> str:
    """Who holds a job, for the admin and the logs: Celery's node name, else the host and process."""
    return (hostname or f"{socket.gethostname()}:{os.getpid()}")[:200]


def task_send(task_name: str, *args: object, waiting: str) -> bool:
    """Send a task by name without letting a broker outage reach the caller: the job's row stays as
    it is for its sweep to send again. Logs `waiting` (what now waits, and for what) and returns False.
    """
    try:
        signature(task_name, args=list(args)).apply_async(retry=False)
    except Exception:  # kombu's OperationalError, redis' ConnectionError, OSError...
        log.warning("Broker unavailable; %s", waiting, exc_info=True)
        return False
    return True


@contextmanager
def heartbeat(beat: Callable[[], object], *, interval: float) -> Iterator[None]:
    """Call `beat()` every `interval` seconds in a thread while the block runs.

    The thread has its own database connection (Django's are per thread) and closes it on exit.
    A failing beat is logged, never raised: a missed heartbeat only makes the sweep look sooner.
    """
    stop = threading.Event()

    def loop() -> None:
        try:
            while not stop.wait(interval):
                try:
                    beat()
                except Exception as exc:  # the database may be down for a moment
                    log.warning("job heartbeat failed: %r", exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=loop, name="job-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=interval + 10)


# --- Transitions -----------------------------------------------------------------------------------


def job_claim(rows: QuerySet[Row], *, job_id: str, worker: str = "", **fields: object) -> bool:
    """pending → running for this job. False when another worker has it or it is finished.

    A running row whose job_id is this job's id belongs to an earlier delivery of this very
    message. It may be taken over only when its heartbeat has stopped (that delivery's worker
    died before acknowledging it); while the heartbeat is fresh, the first delivery is still
    running and this one is a duplicate, which must do nothing. Rows of a model that does not
    beat are claimed from pending only.
    """
    now = timezone.now()
    claimable = Q(status=JobStatus.PENDING)
    beats = rows.model.beats
    if beats:
        claimable |= Q(status=JobStatus.RUNNING, job_id=job_id) & heartbeat_stopped(now)
    return bool(
        rows.filter(claimable).update(
            status=JobStatus.RUNNING,
            job_id=job_id,
            worker=worker[:200],
            started_at=now,
            heartbeat_at=now if beats else None,
            attempts=F("attempts") + 1,
            **fields,
        )
    )


def job_claimed(claim: Callable[[], bool], *, retry: Callable[[], JobRetry], what: str, job_id: str) -> bool:
    """A job's first step: `claim()` (its conditional UPDATE). True when this job now holds the row;
    False, logged, when another job holds it or it is finished (a duplicate delivery: nothing to do).
    A database error is raised as `retry()`, which the task retries once the database is back."""
    try:
        claimed = claim()
    except DATABASE_ERRORS as exc:
        raise retry() from exc
    if not claimed:
        log.info("%s is not claimable by job %s; nothing to do", what, job_id)
    return claimed


def job_held(rows: QuerySet[Row], *, job_id: str) -> QuerySet[Row]:
    """The rows this job still holds: every write of a running job goes through here."""
    return rows.filter(status=JobStatus.RUNNING, job_id=job_id)


def job_beat(rows: QuerySet[Row], *, job_id: str) -> bool:
    """The holding worker is alive (called by heartbeat()'s thread)."""
    return bool(job_held(rows, job_id=job_id).update(heartbeat_at=timezone.now()))


def job_release(rows: QuerySet[Row], *, job_id: str, message: str, **fields: object) -> bool:
    """running → pending, so the task's retry can claim it again; the message says why it waits."""
    return bool(
        job_held(rows, job_id=job_id).update(
            **_idle(rows.model, status=JobStatus.PENDING, queued_at=timezone.now(), **fields),
            **_error(rows.model, message),
        )
    )


def job_finish(rows: QuerySet[Row], *, job_id: str, **fields: object) -> bool:
    """running → done, only while this job still holds the row; `fields` are the result."""
    return bool(
        job_held(rows, job_id=job_id).update(
            **_idle(rows.model, status=JobStatus.DONE, finished_at=timezone.now(), **fields)
        )
    )


def job_fail(rows: QuerySet[Row], *, message: str, job_id: str | None = None, **fields: object) -> int:
    """→ failed with a message for the user. With a job_id, only while that job still holds the
    row; without one, any row not finished yet."""
    if job_id:
        rows = job_held(rows, job_id=job_id)
    else:
        rows = rows.filter(status__in=[JobStatus.PENDING, JobStatus.RUNNING])
    return rows.update(**job_failed(rows.model, message, timezone.now(), **fields))


def job_failed(model: type[JobRow], message: str, now: datetime, **fields: object) -> dict[str, Any]:
    """The columns of a failed row."""
    failed = _idle(model, **model.failed_fields)
    return failed | {"status": JobStatus.FAILED, "finished_at": now, **fields} | _error(model, message)


def _idle(model: type[JobRow], **fields: object) -> dict[str, Any]:
    return {**model.idle_fields, **fields}


def _error(model: type[JobRow], message: str) -> dict[str, str]:
    """The message in the model's error column, cut to the column's length if it has one."""
    length = getattr(model._meta.get_field(model.error_field), "max_length", None)
    return {model.error_field: message[:length] if length else message}


# --- Sweep ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepReport:
    requeued: int = 0  # pending rows sent again (their message may be lost, or recovered below)
    recovered: int = 0  # running rows whose worker was gone, put back to pending
    lost: int = 0  # running rows whose worker was gone PREDICTION_MAX_ATTEMPTS times: failed
    stale: int = 0  # running rows past PREDICTION_STALE_AFTER: failed

    @property
    def failed(self) -> int:
        return self.lost + self.stale


def message_may_be_lost(now: datetime) -> Q:
    """Pending job rows sent (or created unsent) longer than PREDICTION_REQUEUE_AFTER ago: their
    task message may be lost, so the sweep sends them again."""
    requeue_before = now - timedelta(seconds=settings.PREDICTION_REQUEUE_AFTER)
    return Q(queued_at__lt=requeue_before) | Q(queued_at__isnull=True, created_at__lt=requeue_before)


def job_sweep(
    rows: QuerySet[Row],
    *,
    send: Callable[[Any], bool],
    stale_message: str,
    lost_message: str = "",
    key: str = "pk",
    now: datetime | None = None,
) -> SweepReport:
    """Keep every job of `rows` moving without a person:

    - running rows whose heartbeat stopped (their worker died) go back to pending and are sent
      again at once; after PREDICTION_MAX_ATTEMPTS claims they fail with `lost_message` instead, so
      a job that kills its worker cannot loop for ever (models that beat only);
    - pending rows whose message may be lost (broker down when sent) are sent again;
    - running rows older than PREDICTION_STALE_AFTER fail with `stale_message` (a backstop: the
      time limit stops them first).

    `send(value of key)` sends a row's task and says whether the broker took it.
    """
    now = now or timezone.now()
    model = rows.model
    lost = recovered = 0
    orphan_ids: list[int] = []
    if model.beats:
        orphans = rows.filter(status=JobStatus.RUNNING).filter(orphaned(now))
        lost = orphans.filter(attempts__gte=settings.PREDICTION_MAX_ATTEMPTS).update(
            **job_failed(model, lost_message, now)
        )
        if lost:
            log.warning("Sweep: %s %s jobs failed after losing their worker", lost, model._meta.label)
        orphan_ids = list(orphans.values_list("pk", flat=True))
        # The old message, if the broker ever hands it out again, finds the row pending or held by
        # the new job, and does nothing harmful (see job_claim).
        recovered = orphans.filter(pk__in=orphan_ids).update(
            **_idle(model, status=JobStatus.PENDING, job_id="", heartbeat_at=None, queued_at=None)
        )
    waiting = rows.filter(status=JobStatus.PENDING).filter(Q(pk__in=orphan_ids) | message_may_be_lost(now))
    requeued = sum(send(value) for value in waiting.values_list(key, flat=True))
    stale_before = now - timedelta(seconds=settings.PREDICTION_STALE_AFTER)
    stale = rows.filter(status=JobStatus.RUNNING, started_at__lt=stale_before).update(
        **job_failed(model, stale_message, now)
    )
    return SweepReport(requeued=requeued, recovered=recovered, lost=lost, stale=stale)


# --- Tasks ----------------------------------------------------------------------------------------------


class JobRetry(Exception):
    """A failure that may go away by itself (network, rate limit, provider outage, the database):
    the task releases the row if it can and retries later (job_retry)."""

    def __init__(self, message: str, *, retry_after: int | None = None, database: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        # The database failed: the row may still be held by this job, so the retry must wait
        # until its heartbeat counts as stopped (see job_claim).
        self.database = database


def job_task(*, name: str, **options: Any) -> Callable[[Callable[..., Any]], Task]:
    """A bound Celery task that holds a job row. acks_late + reject_on_worker_lost: a worker that
    dies mid-job leaves the message on the broker, and its redelivery takes the job over once the
    row's heartbeat has stopped (see job_claim); the sweep does not wait for it and sends the job
    again. Retries are the task's to ask for, through job_retry (bounded by PREDICTION_MAX_RETRIES).
    """
    defaults: dict[str, Any] = {"acks_late": True, "reject_on_worker_lost": True, "max_retries": None}
    return shared_task(bind=True, name=name, **(defaults | options))


def retry_countdown(retries: int, retry_after: int | None) -> int:
    """Seconds before the next try: what the provider asked for, else 10 s doubling to 5 min."""
    if retry_after:
        return max(1, int(retry_after))
    return min(300, 10 * 2**retries)


def job_retry(task: Task, exc: JobRetry, *, give_up: Callable[[str], object], label: str) -> None:
    """Retry `task` after the shared countdown, or, once it has used PREDICTION_MAX_RETRIES, fail
    its row through `give_up(message)` instead. A failure to record that is left for the sweep."""
    retries = task.request.retries
    if retries >= settings.PREDICTION_MAX_RETRIES:
        _give_up(give_up, f"{exc} We gave up after several tries.", label)
        return
    countdown = retry_countdown(retries, exc.retry_after)
    if exc.database:
        # The row may still be held by this job id: wait until its heartbeat counts as stopped.
        countdown = max(countdown, settings.PREDICTION_HEARTBEAT_TIMEOUT + 1)
    log.info("%s: %s; retrying in %s s", label, exc, countdown)
    try:
        raise task.retry(countdown=countdown, max_retries=settings.PREDICTION_MAX_RETRIES) from exc
    except MaxRetriesExceededError:
        _give_up(give_up, str(exc), label)


def _give_up(give_up: Callable[[str], object], message: str, label: str) -> None:
    try:
        give_up(message)
    except DATABASE_ERRORS:
        log.warning("%s: could not record the failure; the sweep will", label)
