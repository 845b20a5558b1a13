"""The prediction job (ML worker): claim the row, fetch the audio, analyse it, save the result;
the spectrogram picture drawn afterwards (I/O worker); and the sweep that keeps every job moving.

The row is a core.models.JobRow and moves with core.jobs' conditional UPDATEs:

    pending ──claim──▶ running ──▶ done
       ▲                  │  └────▶ failed   (bad input, retries exhausted, stale)
       └──── release ─────┘                  (transient error: the task retries later)

While a worker holds a row it writes a heartbeat on it; the sweep puts a running row whose
heartbeat stopped (its worker died) back to pending and sends it again, so a dead host's job is
finished by another worker.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from catalog.errors import (
    CatalogError,
    DownloadRefused,
    NoPreview,
    NotFound,
    ProviderUnavailable,
    RateLimited,
)
from core.jobs import (
    DATABASE_ERRORS,
    JobRetry,
    heartbeat,
    job_beat,
    job_claim,
    job_claimed,
    job_fail,
    job_finish,
    job_held,
    job_release,
    job_sweep,
    task_send,
)
from predictions.learning import served_model_dir
from worker import predictor
from worker.audio.decode import AudioError
from worker.music.theory import key_name
from worker.predictor import PredictionResult

from .models import Prediction
from .services import RENDER_SPECTROGRAM_TASK, prediction_audio_fetch, prediction_enqueue
from .signals import prediction_done
from .uploads import STORAGE_RETRY_AFTER, StorageRefused, storage_refusals

log = logging.getLogger(__name__)

Status = Prediction.Status
Stage = Prediction.Stage

GENERIC_FAILURE = (
    "Something went wrong while analysing this song. Try again; if it keeps failing, upload the audio."
)
STALE_FAILURE = "The analysis took too long and was stopped. Try again in a moment."
WORKER_LOST_FAILURE = (
    "The analysis was interrupted several times (its worker stopped). Try again in a moment."
)
DATABASE_UNAVAILABLE = "The database was unavailable for a moment; the analysis will be retried."
STORAGE_BUSY = (
    "Seven/Four cannot store files right now (its storage is full or read-only); the analysis will be "
    "retried in a few minutes."
)


class TransientJobError(JobRetry):
    """A failure that may go away by itself (network, rate limit, provider outage): retry later."""


def _row(prediction_id: int) -> QuerySet[Prediction]:
    return Prediction.objects.filter(pk=prediction_id)


def _running(prediction_id: int, job_id: str) -> QuerySet[Prediction]:
    return job_held(_row(prediction_id), job_id=job_id)


# --- The job's transitions ------------------------------------------------------------------------------


def prediction_claim(*, prediction_id: int, job_id: str, worker: str = "") -> bool:
    """pending → running for this job (core.jobs.job_claim). False when another worker has it or
    it is finished; a redelivery of this very message takes it over once its heartbeat stopped."""
    return job_claim(_row(prediction_id), job_id=job_id, worker=worker, stage=Stage.DOWNLOADING, error="")


def prediction_heartbeat(*, prediction_id: int, job_id: str) -> bool:
    """The holding worker is alive (called by core.jobs.heartbeat's thread)."""
    return job_beat(_row(prediction_id), job_id=job_id)


def prediction_set_stage(*, prediction_id: int, job_id: str, stage: str) -> None:
    _running(prediction_id, job_id).update(stage=stage)


def prediction_release(*, prediction_id: int, job_id: str, message: str) -> bool:
    """running → pending, so the task's retry can claim it again; the message says why it waits."""
    return job_release(_row(prediction_id), job_id=job_id, message=message)


def prediction_fail(
    *, prediction_id: int, message: str, job_id: str | None = None, input_error: bool = False
) -> bool:
    """→ failed with a message for the user. With a job_id, only while that job still holds the row.
    `input_error`: the song itself is the problem, so the page offers another song, not a retry."""
    return bool(job_fail(_row(prediction_id), message=message, job_id=job_id, input_error=input_error))


# --- The job (ML worker) ------------------------------------------------------------------------------


def prediction_run(*, prediction_id: int, job_id: str, worker: str = "") -> None:
    """Run one prediction job. Raises TransientJobError (after releasing the row, if the database
    allows) for the task to retry; every other failure ends with the row failed and a message."""
    if not job_claimed(
        lambda: prediction_claim(prediction_id=prediction_id, job_id=job_id, worker=worker),
        retry=lambda: TransientJobError(DATABASE_UNAVAILABLE, database=True),
        what=f"Prediction {prediction_id}",
        job_id=job_id,
    ):
        return
    try:
        with heartbeat(
            lambda: prediction_heartbeat(prediction_id=prediction_id, job_id=job_id),
            interval=settings.PREDICTION_HEARTBEAT_INTERVAL,
        ):
            _analyse(Prediction.objects.get(pk=prediction_id), job_id)
    except TransientJobError as exc:
        prediction_release(prediction_id=prediction_id, job_id=job_id, message=str(exc))
        raise
    except SoftTimeLimitExceeded:
        raise  # the task fails the row with STALE_FAILURE: "too long", not "something went wrong"
    except DATABASE_ERRORS as exc:
        _release_if_possible(prediction_id, job_id)
        raise TransientJobError(DATABASE_UNAVAILABLE, database=True) from exc
    except Exception as exc:
        message = _user_message(exc)
        if message is None:
            log.exception("Prediction %s failed unexpectedly", prediction_id)
        prediction_fail(
            prediction_id=prediction_id,
            job_id=job_id,
            message=message or GENERIC_FAILURE,
            input_error=_is_input_error(exc),
        )
        return
    if job_finish(_row(prediction_id), job_id=job_id):
        # Receivers (the samples app) start their own stages; the analysis is already visible.
        prediction_done.send(sender=Prediction, prediction_id=prediction_id)
        transaction.on_commit(lambda: prediction_spectrogram_enqueue(prediction_id=prediction_id))


def _release_if_possible(prediction_id: int, job_id: str) -> None:
    """Hand the row back after a database error. When the database is still down the row stays
    running with this job's id; its heartbeat has stopped, so the retry (or the sweep) takes it
    over once the heartbeat timeout has passed (the task waits at least that long)."""
    try:
        prediction_release(prediction_id=prediction_id, job_id=job_id, message=DATABASE_UNAVAILABLE)
    except DATABASE_ERRORS:
        log.warning("Prediction %s: database still down, row left for the retry or the sweep", prediction_id)


def _analyse(prediction: Prediction, job_id: str) -> None:
    """A full or read-only disk (the scratch folder, the media storage) is the server's condition,
    not the song's: the job is retried, so a catalog pick is not lost to it (issue 28.6)."""
    try:
        with storage_refusals():
            _analyse_in_scratch(prediction, job_id)
    except StorageRefused as exc:
        raise TransientJobError(STORAGE_BUSY, retry_after=STORAGE_RETRY_AFTER) from exc


def _analyse_in_scratch(prediction: Prediction, job_id: str) -> None:
    with _scratch_dir() as scratch:
        audio = _fetch_audio(prediction, scratch)
        prediction_set_stage(prediction_id=prediction.pk, job_id=job_id, stage=Stage.ANALYSING)
        mel = scratch / "mel.npz"
        # The promoted version, read per job: a promotion reaches running workers without a restart,
        # and each artifact is loaded once per worker process (get_predictor caches per folder).
        # Only the mel is saved here; an I/O worker draws the picture (prediction_spectrogram_render).
        result = predictor.get_predictor(served_model_dir()).predict(audio, spectrogram_mel=mel)
        _save_result(prediction, job_id, result, mel)


def _fetch_audio(prediction: Prediction, scratch: Path) -> Path:
    try:
        return prediction_audio_fetch(prediction=prediction, dest=scratch / "audio")
    except (RateLimited, ProviderUnavailable) as exc:
        raise TransientJobError(str(exc), retry_after=getattr(exc, "retry_after", None)) from exc


def _save_result(prediction: Prediction, job_id: str, result: PredictionResult, mel: Path) -> None:
    top_slug, top_score = result.top[0]
    fields = {
        "genre_scores": dict(result.genres),
        "top_genre": top_slug,
        "confidence": float(top_score),
        "tags": [[name, round(float(score), 4)] for name, score in result.tags],
        "outside_taxonomy": result.outside_taxonomy or "",
        # "" (not judged) from a result without the verdict: a stand-in predictor's.
        "sounds_like": getattr(result, "sounds_like", ""),
        "tempo_bpm": result.tempo_bpm,
        "tempo_confidence": result.tempo_confidence,
        "key": result.key or "",
        "key_confidence": result.key_confidence,
        **analysis_extras(result),
        "model_name": result.model_name,
        "model_version": result.model_version,
        "timings": {name: round(float(seconds), 4) for name, seconds in result.timings.items()},
        "excerpt_s": result.excerpt_s,
        "backbone_output": result.backbone or {},
        "patches_read": result.patches_read or None,
    }
    if mel.exists():
        with mel.open("rb") as fh:
            fields["spectrogram_mel"] = prediction.spectrogram_mel.storage.save(
                prediction.spectrogram_mel.field.generate_filename(
                    prediction, f"prediction-{prediction.pk}.npz"
                ),
                File(fh),
            )
    if not _running(prediction.pk, job_id).update(**fields) and fields.get("spectrogram_mel"):
        prediction.spectrogram_mel.storage.delete(fields["spectrogram_mel"])  # lost the row meanwhile


def analysis_extras(result: PredictionResult) -> dict[str, object]:
    """The estimator's second opinions: an alternative tempo and, when plausible, a ×3/2 or ×2/3
    one, the beat times, the bar (its downbeats and beats per bar, when found) and a ranked list of
    other keys (names in our spelling; an entry we can't read is dropped)."""
    keys: list[str] = []
    for name, _score in result.key_alternatives:
        spelled = key_name(name)
        if spelled and spelled not in keys:
            keys.append(spelled)
    return {
        "tempo_alternative_bpm": result.tempo_alternative_bpm,
        # A result from before the ×3/2 reading was reported has no such attribute.
        "tempo_metric_alternative_bpm": getattr(result, "tempo_metric_alternative_bpm", None),
        "beat_times": [round(float(t), 3) for t in result.beat_times],
        **_bar(result),
        "key_alternatives": keys,
    }


def _bar(result: PredictionResult) -> dict[str, object]:
    """The downbeats and beats per bar as the worker found them (empty / None when it did not; a
    bar of no beats is none). A result from before the bar was reported has neither attribute."""
    per_bar = getattr(result, "beats_per_bar", None)
    return {
        "downbeat_times": [round(float(t), 3) for t in getattr(result, "downbeat_times", None) or []],
        "beats_per_bar": int(per_bar) if per_bar and per_bar >= 1 else None,
    }


def _user_message(exc: Exception) -> str | None:
    """The sentence a user sees for a failure we expect, or None for a bug."""
    if isinstance(exc, AudioError | CatalogError):
        return str(exc)
    return None


def _is_input_error(exc: Exception) -> bool:
    """The song itself cannot be analysed (too short, silent, not audio, no preview, gone from the
    catalog): the same job would fail the same way again."""
    return isinstance(exc, AudioError | NoPreview | NotFound | DownloadRefused)


@contextmanager
def _scratch_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="sevenfour-job-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# --- The spectrogram picture (I/O worker) ----------------------------------------------------


def prediction_spectrogram_enqueue(*, prediction_id: int) -> bool:
    """Ask an I/O worker to draw the picture. A broker outage costs only the picture (the page says
    it is being drawn until then): logged, not raised."""
    return task_send(
        RENDER_SPECTROGRAM_TASK, prediction_id, waiting=f"prediction {prediction_id}'s spectrogram not sent"
    )


def prediction_spectrogram_render(*, prediction_id: int) -> bool:
    """Draw the PNG from the mel the ML job saved, then delete the mel (it is only the picture's
    input: the PNG, the scores and the backbone output are what is kept). True when drawn now.

    Idempotent: a row that already has its PNG, or no mel, or is gone, does nothing; of two
    deliveries drawing at once, the second to finish throws its PNG away. A picture that cannot be
    drawn marks the row (the page says so) and keeps the mel, so the task can be sent again by hand
    after a fix; the analysis is untouched either way. Database errors propagate (the task retries).
    """
    prediction = Prediction.objects.filter(pk=prediction_id).first()
    if prediction is None or prediction.spectrogram or not prediction.spectrogram_mel:
        return False
    unset = Prediction.objects.filter(pk=prediction_id, spectrogram="")
    try:
        name = _draw_spectrogram(prediction)
    except Exception:
        log.exception("Prediction %s: the spectrogram could not be drawn", prediction_id)
        unset.update(spectrogram_failed=True)
        return False
    try:
        stored = unset.update(spectrogram=name, spectrogram_failed=False, spectrogram_mel="")
    except DATABASE_ERRORS:
        prediction.spectrogram.storage.delete(name)  # the retry draws it again
        raise
    if not stored:
        prediction.spectrogram.storage.delete(name)  # another delivery was first, or the row is gone
        return False
    prediction.spectrogram_mel.storage.delete(prediction.spectrogram_mel.name)
    return True


def _draw_spectrogram(prediction: Prediction) -> str:
    """The stored PNG's name."""
    # Imported here: this module is loaded by ML workers too, which must not pay for Pillow and matplotlib.
    from worker.audio.spectrogram import load_mel, render_db_png

    with prediction.spectrogram_mel.open("rb") as fh:
        saved = load_mel(fh)
    with _scratch_dir() as scratch:
        png = render_db_png(saved.db, scratch / "spectrogram.png", start_s=saved.start_s)
        with png.open("rb") as fh:
            return prediction.spectrogram.storage.save(
                prediction.spectrogram.field.generate_filename(prediction, f"prediction-{prediction.pk}.png"),
                File(fh),
            )


# --- Sweep (beat) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepReport:
    requeued: int
    failed: int
    recovered: int = 0  # running jobs whose worker was gone, put back to pending and sent again
    pictures: int = 0  # done jobs whose spectrogram was never drawn (broker down at the time), sent again


def prediction_sweep(*, now: datetime | None = None) -> SweepReport:
    """Keep every job moving without a person (core.jobs.job_sweep):

    - running jobs whose heartbeat stopped (their worker died) go back to pending and are sent
      again; after PREDICTION_MAX_ATTEMPTS claims they fail instead, so a song that kills its
      worker cannot loop for ever;
    - pending jobs whose message may be lost (broker down at submit) are sent again;
    - running jobs older than PREDICTION_STALE_AFTER fail (a backstop: the time limit stops them first);
    - done jobs whose spectrogram is still undrawn a while after they finished are sent to be drawn
      again (its message was lost), so no page says "Drawing…" for ever.
    """
    now = now or timezone.now()
    jobs = job_sweep(
        Prediction.objects.all(),
        send=lambda pk: prediction_enqueue(prediction_id=pk),
        stale_message=STALE_FAILURE,
        lost_message=WORKER_LOST_FAILURE,
        now=now,
    )
    pictures = _resend_undrawn_spectrograms(now - timedelta(seconds=settings.PREDICTION_REQUEUE_AFTER))
    if jobs.requeued or jobs.failed or jobs.recovered or pictures:
        log.info(
            "Sweep: %s jobs of dead workers recovered, %s pending sent again, %s stale failed, "
            "%s spectrograms sent again",
            jobs.recovered,
            jobs.requeued,
            jobs.stale,
            pictures,
        )
    return SweepReport(requeued=jobs.requeued, failed=jobs.stale, recovered=jobs.recovered, pictures=pictures)


def _resend_undrawn_spectrograms(finished_before: datetime) -> int:
    undrawn = (
        Prediction.objects.filter(status=Status.DONE, spectrogram="", spectrogram_failed=False)
        .exclude(spectrogram_mel="")
        .filter(finished_at__lt=finished_before)
    )
    return sum(
        prediction_spectrogram_enqueue(prediction_id=pk) for pk in undrawn.values_list("pk", flat=True)
    )
