"""Health checks for /healthz: each returns (ok, detail) and never raises.

The detailed report costs up to a few seconds (a broker connection and a worker ping), so it is
computed at most once per HEALTHZ_CACHE_SECONDS per process, however many clients ask.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection

from core.workers import model_readiness

from .celery import app

CheckResult = tuple[bool, str]


def check_database() -> CheckResult:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return False, f"database unreachable: {exc.__class__.__name__}: {exc}"
    return True, connection.vendor


def check_broker(timeout: int = 2) -> CheckResult:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
            transport = conn.transport_cls
    except Exception as exc:
        return False, f"broker unreachable: {exc.__class__.__name__}: {exc}"
    return True, str(transport)


def check_workers(timeout: float = 1.0) -> CheckResult:
    try:
        replies = app.control.ping(timeout=timeout)
    except Exception as exc:
        return False, f"could not ping workers: {exc.__class__.__name__}: {exc}"
    names = sorted(name for reply in replies or [] for name in reply)
    if not names:
        return False, "no worker answered the ping"
    return True, ", ".join(names)


Report = tuple[bool, dict[str, dict[str, object]]]
_cache_lock = threading.Lock()
_cached: tuple[float, Report] | None = None


def health_report_cached(*, clock: Callable[[], float] = time.monotonic) -> Report:
    """health_report(), reused for HEALTHZ_CACHE_SECONDS; concurrent callers wait for one probe."""
    global _cached
    with _cache_lock:
        if _cached is not None and clock() - _cached[0] < settings.HEALTHZ_CACHE_SECONDS:
            return _cached[1]
        report = health_report()
        _cached = (clock(), report)
        return report


def health_cache_clear() -> None:
    global _cached
    with _cache_lock:
        _cached = None


def check_model(timeout: float = 1.0) -> CheckResult:
    """Whether ML workers have the model loaded (see sevenfour_site.ml_worker). Informational: jobs
    submitted while it loads wait in the queue."""
    try:
        readiness = model_readiness(timeout)
    except Exception as exc:
        return False, f"could not ask the workers: {exc.__class__.__name__}: {exc}"
    if not readiness.workers:
        return False, "no ML worker answered"
    detail = f"model ready in {readiness.ready} of {readiness.processes} ML processes"
    if readiness.runtime:
        detail += f" ({readiness.runtime})"
    return readiness.ready > 0, detail


def health_report() -> Report:
    database = check_database()
    broker = check_broker()
    # Pinging workers through a broker that is down would only wait for the timeout.
    workers = check_workers() if broker[0] else (False, "broker unreachable")
    model = check_model() if workers[0] else (False, "no worker")
    checks = {"database": database, "broker": broker, "workers": workers}
    report = {name: {"ok": ok, "detail": detail} for name, (ok, detail) in checks.items()}
    report["model"] = {"ok": model[0], "detail": model[1]}
    return all(ok for ok, _ in checks.values()), report
