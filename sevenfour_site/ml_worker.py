"""ML worker processes load the model before their first job and say when it is ready.

A worker that consumes the "ml" queue:
- in its main process, before the pool forks: makes sure the ONNX export is cached (exporting it in a
  child process when missing, which can take a minute once) and imports the analysis libraries, so
  that each pool process inherits them;
- in each pool process (`worker_process_init`): builds the model runtime and writes a readiness file
  named by its pid; the file goes when the process exits;
- answers the `model_status` remote-control command (used by /healthz) with how many of its pool
  processes are ready.

TensorFlow is imported by none of this (see worker.serving).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from celery import shared_task, signals
from celery.worker.control import control_command

log = logging.getLogger(__name__)

ML_QUEUE = "ml"
# Loading takes well under a second once the export is cached; the margin covers a busy host.
PROCESS_INIT_TIMEOUT_S = 60.0
_serves_ml = False


def readiness_dir() -> Path:
    """Per host, like the processes it describes."""
    return Path(tempfile.gettempdir()) / "sevenfour-ml-ready"


def _readiness_file(pid: int) -> Path:
    return readiness_dir() / f"{pid}.json"


def mark_ready(info: dict[str, Any]) -> None:
    folder = readiness_dir()
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{os.getpid()}.tmp"
    tmp.write_text(json.dumps(info), encoding="utf-8")
    tmp.replace(_readiness_file(os.getpid()))


def ready_info(pid: int) -> dict[str, Any] | None:
    try:
        return json.loads(_readiness_file(pid).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@signals.celeryd_after_setup.connect
def _prepare_ml_worker(sender: str, instance: Any, **kwargs: Any) -> None:
    global _serves_ml
    _serves_ml = ML_QUEUE in instance.app.amqp.queues.consume_from
    if not _serves_ml:
        return
    # Children are forked after this: give them time to build the runtime before Celery gives up.
    instance.app.conf.worker_proc_alive_timeout = max(
        instance.app.conf.worker_proc_alive_timeout or 0, PROCESS_INIT_TIMEOUT_S
    )
    from worker.serving import configured_runtime, ensure_onnx

    runtime = configured_runtime()
    if runtime != "tensorflow":
        ensure_onnx("int8" if runtime.endswith(":int8") else "fp32")
    # Import the pipeline and let numba compile librosa's beat tracker once, before the fork: every
    # pool process (and every replacement) inherits it. The model itself is built after the fork.
    from worker.predictor import warm_up_analysis

    warm_up_analysis()
    # No matplotlib: the ML job only saves the mel; I/O workers draw the spectrogram PNG.


@signals.worker_process_init.connect
def _load_model(**kwargs: Any) -> None:
    if not _serves_ml:
        return
    from django.conf import settings

    from worker.predictor import get_backbone, get_predictor

    # A pid can be reused: never let a file left by a killed process speak for this one.
    _readiness_file(os.getpid()).unlink(missing_ok=True)
    start = time.perf_counter()
    get_predictor(settings.GENRE_MODEL_DIR or None).load(warm_up=True)
    seconds = round(time.perf_counter() - start, 3)
    mark_ready({"pid": os.getpid(), "runtime": get_backbone().runtime, "load_s": seconds})
    log.info("model ready in %.2f s (%s)", seconds, get_backbone().runtime)


@signals.worker_process_shutdown.connect
def _forget_model(**kwargs: Any) -> None:
    _readiness_file(os.getpid()).unlink(missing_ok=True)


@control_command()
def model_status(state: Any) -> dict[str, Any]:
    """Whether this worker serves the model and how many of its pool processes have it loaded."""
    if not _serves_ml:
        return {"ml": False}
    pids = state.consumer.pool.info.get("processes") or [os.getpid()]
    ready = [info for pid in pids if (info := ready_info(pid))]
    return {"ml": True, "processes": len(pids), "ready": len(ready), "runtime": _runtime(ready)}


def _runtime(ready: list[dict[str, Any]]) -> str:
    return ready[0]["runtime"] if ready else ""


@shared_task(name="sevenfour.loaded_modules")
def loaded_modules_task(path: str) -> None:
    """Diagnostics: write which heavy libraries this pool process has imported to `path` (JSON)."""
    from worker import predictor

    heavy = ("tensorflow", "keras", "torch", "matplotlib", "PIL", "onnxruntime", "openvino", "librosa")
    report = {
        "pid": os.getpid(),
        "loaded": sorted(name for name in heavy if name in sys.modules),
        "model_loaded": predictor._backbone.cache_info().currsize > 0,
    }
    Path(path).write_text(json.dumps(report), encoding="utf-8")
