"""ML worker processes load the model before their first job and say when it is ready.

A worker that consumes the "ml" queue:
- in its main process, before the pool forks: makes sure the ONNX export is cached (exporting it in a
  child process when missing, which can take a minute once) and imports the analysis libraries, so
  that each pool process inherits them;
- in each pool process (`worker_process_init`): builds the model runtime with the head its jobs serve
  (the promoted version, read from the database; GENRE_MODEL_DIR or the shipped default when it
  cannot be read) and writes a readiness file named by its pid; the file goes when the process exits;
- answers the `model_status` remote-control command (used by /healthz and the progress card) with
  how many of its pool processes are ready, and which jobs it is running now.

A worker that consumes only "ml-background" (the audio index) loads the model the same way.

TensorFlow is imported by none of this (see worker.backbone.serving).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from celery import shared_task, signals
from celery.worker.control import control_command

if TYPE_CHECKING:
    from predictions.learning import ServedFolder

log = logging.getLogger(__name__)

ML_QUEUES = ("ml", "ml-background")  # settings.ML_QUEUE, settings.ML_BACKGROUND_QUEUE
# Loading takes well under a second once the export is cached; the margin covers a busy host.
PROCESS_INIT_TIMEOUT_S = 60.0
# Connecting to the database and reading which version is promoted, at a pool process's start.
DATABASE_TIMEOUT_S = 3
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
    _serves_ml = any(queue in instance.app.amqp.queues.consume_from for queue in ML_QUEUES)
    if not _serves_ml:
        return
    # Children are forked after this: give them time to build the runtime before Celery gives up.
    instance.app.conf.worker_proc_alive_timeout = max(
        instance.app.conf.worker_proc_alive_timeout or 0, PROCESS_INIT_TIMEOUT_S
    )
    from worker.backbone.serving import configured_runtime, ensure_onnx

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
    from worker.backbone.serving import get_backbone
    from worker.predictor import get_predictor

    # A pid can be reused: never let a file left by a killed process speak for this one.
    _readiness_file(os.getpid()).unlink(missing_ok=True)
    start = time.perf_counter()
    served = served_folder_at_start()
    # The backbone (nearly all of the cost) is the same for every version; the head is the one the
    # jobs serve, so the first job loads nothing.
    predictor = get_predictor(served.path)
    predictor.load(warm_up=True)
    seconds = round(time.perf_counter() - start, 3)
    model = f"{predictor.artifact.name} {predictor.artifact.version}"
    mark_ready(
        {
            "pid": os.getpid(),
            "runtime": get_backbone().runtime,
            "load_s": seconds,
            "model": model,
            "source": served.source,
            "artifact_dir": str(predictor.artifact.path),
        }
    )
    log.info("model ready in %.2f s (%s; %s, %s)", seconds, get_backbone().runtime, model, served.source)


def served_folder_at_start() -> ServedFolder:
    """The folder a pool process preloads: the one its jobs serve (predictions.learning), or, when the
    database cannot say (down, or not migrated yet), GENRE_MODEL_DIR or the shipped default, with one
    log line. Jobs read the promoted version again each time, so preloading the fallback costs only
    the promoted head's load at the first job; failing the start would leave the process unready."""
    from django.db import Error

    from predictions import learning

    try:
        with _connection_of_its_own():
            return learning.served_folder()
    except Error as exc:
        fallback = learning.configured_folder()
        reason = (str(exc).strip().splitlines() or [""])[0]  # one line: psycopg's messages have several
        log.warning(
            "could not read the promoted genre model version (%s: %s); preloading %s instead",
            exc.__class__.__name__,
            reason,
            fallback.source,
        )
        return fallback


@contextmanager
def _connection_of_its_own() -> Iterator[None]:
    """Run the block's queries on a new database connection with short timeouts, closed after.

    Why in the pool process and not once in the main process before the fork: pool processes are
    replaced during a worker's life (a crash, a time-limit kill, max-tasks-per-child), and each should
    preload what serves when it starts, not when the worker started. Why a connection of its own: any
    connection that Django holds at this point was opened by the main process and inherited with the
    fork; querying on it would mix two processes' messages on one socket, and closing it would end
    the main process's session. Celery's Django fixup drops inherited connections without a word to
    the server, but in a worker_process_init receiver that runs after this one (receivers run in the
    order they were connected, and this module connects at import). So the block gets a new one, and
    closes it: that ends this process's own session only, and an idle process holds no connection
    until its first job. The timeouts keep a database that does not answer from holding the start
    past PROCESS_INIT_TIMEOUT_S, after which Celery would kill the process and start another.
    """
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.utils import load_backend

    db = connections.settings[DEFAULT_DB_ALIAS]
    options = dict(db["OPTIONS"])
    if db["ENGINE"] == "django.db.backends.postgresql":
        options["connect_timeout"] = DATABASE_TIMEOUT_S
        statement_timeout = f"-c statement_timeout={DATABASE_TIMEOUT_S * 1000}"
        options["options"] = f"{options.get('options', '')} {statement_timeout}".strip()
    elif db["ENGINE"] == "django.db.backends.sqlite3":
        options["timeout"] = DATABASE_TIMEOUT_S  # waiting for a writer's lock
    own = load_backend(db["ENGINE"]).DatabaseWrapper({**db, "OPTIONS": options}, DEFAULT_DB_ALIAS)
    inherited = connections[DEFAULT_DB_ALIAS]
    connections[DEFAULT_DB_ALIAS] = own
    try:
        yield
    finally:
        connections[DEFAULT_DB_ALIAS] = inherited
        own.close()


@signals.worker_process_shutdown.connect
def _forget_model(**kwargs: Any) -> None:
    _readiness_file(os.getpid()).unlink(missing_ok=True)


@control_command()
def model_status(state: Any) -> dict[str, Any]:
    """Whether this worker serves the model, how many of its pool processes have it loaded, and the
    names of the jobs it is running (the progress card tells a waiting user about background work)."""
    if not _serves_ml:
        return {"ml": False}
    from celery.worker.state import active_requests

    pids = state.consumer.pool.info.get("processes") or [os.getpid()]
    ready = [info for pid in pids if (info := ready_info(pid))]
    return {
        "ml": True,
        "processes": len(pids),
        "ready": len(ready),
        "runtime": _runtime(ready),
        "active": sorted(request.name for request in list(active_requests)),
    }


def _runtime(ready: list[dict[str, Any]]) -> str:
    return ready[0]["runtime"] if ready else ""


@shared_task(name="sevenfour.loaded_modules")
def loaded_modules_task(path: str) -> None:
    """Diagnostics: write which heavy libraries this pool process has imported to `path` (JSON)."""
    from worker.backbone import serving

    heavy = ("tensorflow", "keras", "torch", "matplotlib", "PIL", "onnxruntime", "openvino", "librosa")
    report = {
        "pid": os.getpid(),
        "loaded": sorted(name for name in heavy if name in sys.modules),
        "model_loaded": serving._backbone.cache_info().currsize > 0,
    }
    Path(path).write_text(json.dumps(report), encoding="utf-8")
