"""Tasks for the worker-resilience tests, imported by the worker processes they start (--include)."""

from __future__ import annotations

import time
from pathlib import Path

from celery import shared_task


@shared_task(name="tests.busy", ignore_result=True)
def busy_task(folder: str, name: str, seconds: float) -> None:
    """Write `<name>.started`, stay busy `seconds`, then write `<name>.done` (with the worker's pid)."""
    import os

    Path(folder, f"{name}.started").write_text(str(os.getpid()))
    time.sleep(seconds)
    Path(folder, f"{name}.done").write_text(str(os.getpid()))


@shared_task(name="tests.busy_late", ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def busy_late_task(folder: str, name: str, seconds: float) -> None:
    """busy_task, acknowledged once done (like the project's jobs that must survive a worker's death)."""
    busy_task(folder, name, seconds)
