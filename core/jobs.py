"""Helpers for job rows that workers hold while they run: a heartbeat, and which errors are transient.

A worker that holds a job row writes a heartbeat on it every few seconds from a thread beside the
task. When the worker's host dies (kill -9, power loss) the heartbeat stops, and the app's sweep
hands the job to another worker after a bounded time, instead of waiting for the broker's
visibility timeout or failing the job.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from celery import signature
from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.db.models import Q

log = logging.getLogger(__name__)

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
