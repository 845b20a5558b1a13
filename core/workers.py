"""What the ML workers say about themselves, for /healthz and for people waiting on a queued song.

Each ML worker answers the `model_status` control command (sevenfour_site.ml_worker) with how many
pool processes it has, how many have the model loaded, and the names of the jobs it is running (so
a waiting song's card can say the worker is finishing background work). A worker still importing and warming up
before its pool starts does not answer yet, so "nobody answered" covers both a site that has just
started and one whose workers are down; the messages built on this say so.
"""

from __future__ import annotations

from dataclasses import dataclass

from celery import current_app
from django.conf import settings

from .cache import cache_get, cache_set

CACHE_KEY = "sevenfour:ml-readiness"


@dataclass(frozen=True)
class ModelReadiness:
    workers: int  # ML workers that answered
    processes: int  # their pool processes
    ready: int  # of those, with the model loaded
    runtime: str  # e.g. "onnxruntime:fp32", once one is ready
    background: int = 0  # background jobs (the ml-background queue's) they are running now


def background_task_names() -> frozenset[str]:
    """The tasks routed to the background queue (settings, "Queues and the beat schedule")."""
    routes = settings.CELERY_TASK_ROUTES
    return frozenset(name for name, route in routes.items() if route["queue"] == settings.ML_BACKGROUND_QUEUE)


def model_readiness(timeout: float = 1.0) -> ModelReadiness:
    """Ask every worker now (waits up to `timeout`); raises what the broker raises."""
    replies = current_app.control.broadcast("model_status", reply=True, timeout=timeout)
    # With reply=True the answer is a list (empty when nobody replied); the stubs also allow None.
    statuses = [status for reply in replies or [] for status in reply.values() if status.get("ml")]
    background = background_task_names()
    return ModelReadiness(
        workers=len(statuses),
        processes=sum(status["processes"] for status in statuses),
        ready=sum(status["ready"] for status in statuses),
        runtime=next((status["runtime"] for status in statuses if status["runtime"]), ""),
        background=sum(name in background for status in statuses for name in status.get("active", ())),
    )


def model_readiness_cached() -> ModelReadiness | None:
    """model_readiness(), asked at most once per WORKER_STATUS_CACHE_SECONDS across the web processes
    (through the shared cache), so pages polling every second cost the broker nothing more.
    None when the broker cannot be asked."""
    cached = cache_get(CACHE_KEY)
    if isinstance(cached, ModelReadiness):
        return cached
    try:
        readiness = model_readiness()
    except Exception:  # the broker is down: the caller shows what it would show without this
        return None
    cache_set(CACHE_KEY, readiness, timeout=max(1, round(settings.WORKER_STATUS_CACHE_SECONDS)))
    return readiness
