"""Writes for predictions: create and enqueue (web), run the job (worker), sweep, review, re-run.

The row is the job's state machine:

    pending ──claim──▶ running ──▶ done
       ▲                  │  └────▶ failed   (bad input, retries exhausted, stale)
       └──── release ─────┘                  (transient error: the task retries later)

Every transition is a conditional UPDATE, so two workers can never both own a job and a late
or duplicate message can never overwrite a finished one. While a worker holds a row it writes a
heartbeat on it; the sweep puts a running row whose heartbeat stopped (its worker died) back to
pending and sends it again, so a dead host's job is finished by another worker.
"""

from __future__ import annotations

import logging
import secrets
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
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from catalog import previews
from catalog.errors import (
    CatalogError,
    DownloadRefused,
    NoPreview,
    NotFound,
    ProviderUnavailable,
    RateLimited,
)
from catalog.services import track_identity_fetch
from catalog.sniff import sniff_file
from catalog.types import TrackIdentity
from core.jobs import DATABASE_ERRORS, heartbeat, heartbeat_stopped, orphaned, task_send
from predictions.learning import served_model_dir
from worker import predictor
from worker.audio.decode import AudioError
from worker.music.theory import key_name
from worker.predictor import PredictionResult

from .models import MAX_USER_TEMPO, MIN_USER_TEMPO, USER_GENRE_NONE, Prediction
from .signals import prediction_corrected, prediction_done
from .taxonomy import genre_choices, genre_name

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

# The tasks (predictions/tasks.py) are sent by name: the tasks module imports this one.
PREDICT_GENRE_TASK = "predictions.predict_genre"
SWEEP_PREDICTIONS_TASK = "predictions.sweep"
RENDER_SPECTROGRAM_TASK = "predictions.render_spectrogram"  # the I/O queue: matplotlib stays off the ML path


class TransientJobError(Exception):
    """A failure that may go away by itself (network, rate limit, provider outage): retry later."""

    def __init__(self, message: str, *, retry_after: int | None = None, database: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        # The database failed: the row may still be held by this job, so the retry must wait
        # until its heartbeat counts as stopped (see prediction_claim).
        self.database = database


# --- Create and enqueue (web) ------------------------------------------------------------


@transaction.atomic
def prediction_create(
    *,
    user: User,
    track: TrackIdentity,
    upload: UploadedFile | File | None = None,
    rerun_of: Prediction | None = None,
) -> Prediction:
    """Save a pending prediction and enqueue its job once the transaction commits."""
    prediction = Prediction(
        owner=user,
        source=track.source,
        source_track_id=track.source_track_id,
        isrc=track.isrc,
        title=track.title[:300],
        artist=track.artist[:300],
        album=track.album[:300],
        artwork_url=track.artwork_url[:500],
        duration_s=track.duration_s,
        rerun_of=rerun_of,
    )
    if upload is not None:
        prediction.upload.save(Path(upload.name or "upload").name, upload, save=False)
    prediction.save()
    transaction.on_commit(lambda: prediction_enqueue(prediction_id=prediction.pk))
    return prediction


@transaction.atomic
def prediction_rerun(*, prediction: Prediction) -> Prediction:
    """A new job for the same song with the current model; the old row keeps its result.
    An uploaded song is shared, not copied: prediction_delete keeps it while a row refers to it."""
    rerun = prediction_create(user=prediction.owner, track=prediction_track(prediction), rerun_of=prediction)
    if prediction.upload:
        # Still inside the transaction, so the job (sent on commit) sees the file.
        rerun.upload.name = prediction.upload.name
        rerun.save(update_fields=["upload"])
    return rerun


def prediction_create_from_track(*, user: User, provider: str, track_id: str) -> Prediction:
    """A prediction for a catalog pick. Catalog errors (unknown track, provider down) propagate, and
    so does NoPreview: a track no preview can be found for is refused before a job is queued."""
    track = track_identity_fetch(provider=provider, track_id=track_id)
    previews.track_preview_check(track)
    return prediction_create(user=user, track=track)


def prediction_create_from_upload(*, user: User, upload: UploadedFile) -> Prediction:
    """`upload` must have passed predictions.uploads.validate_upload.

    The user's file name becomes the title only. The file is stored under a random name with the
    sniffed format's extension: nobody can guess another user's path, and no name (too long,
    `..`, an `.html` extension) ever reaches the file system or the served content type."""
    track = TrackIdentity.for_upload(upload.name or "")
    upload.name = stored_upload_name(sniff_file(upload) or "audio")
    return prediction_create(user=user, track=track, upload=upload)


def stored_upload_name(detected_format: str) -> str:
    return f"{secrets.token_urlsafe(18)}.{detected_format}"


def prediction_track(prediction: Prediction) -> TrackIdentity:
    return TrackIdentity(
        source=prediction.source,
        source_track_id=prediction.source_track_id,
        isrc=prediction.isrc,
        title=prediction.title,
        artist=prediction.artist,
        album=prediction.album,
        artwork_url=prediction.artwork_url,
        duration_s=prediction.duration_s,
    )


def prediction_enqueue(*, prediction_id: int) -> bool:
    """Send the job to the broker. A broker outage is not the user's problem: the row stays
    pending and the sweep sends it again, so this logs and returns False instead of raising."""
    if not task_send(
        PREDICT_GENRE_TASK, prediction_id, waiting=f"prediction {prediction_id} stays pending for the sweep"
    ):
        return False
    Prediction.objects.filter(pk=prediction_id, status=Status.PENDING).update(queued_at=timezone.now())
    return True


@transaction.atomic
def prediction_delete(*, prediction: Prediction) -> None:
    if prediction.spectrogram:
        prediction.spectrogram.delete(save=False)
    if prediction.spectrogram_mel:
        prediction.spectrogram_mel.delete(save=False)
    # The upload may be shared with re-runs of this prediction: keep it while one refers to it.
    if (
        prediction.upload
        and not Prediction.objects.filter(upload=prediction.upload.name).exclude(pk=prediction.pk).exists()
    ):
        prediction.upload.delete(save=False)
    prediction.delete()


# --- The job (worker) ----------------------------------------------------------------------


def prediction_claim(*, prediction_id: int, job_id: str, worker: str = "") -> bool:
    """pending → running for this job. False when another worker has it or it is finished.

    A running row whose job_id is this job's id belongs to an earlier delivery of this very
    message. It may be taken over only when its heartbeat has stopped (that delivery's worker
    died before acknowledging it); while the heartbeat is fresh, the first delivery is still
    running and this one is a duplicate, which must do nothing.
    """
    now = timezone.now()
    claimable = Q(status=Status.PENDING) | (Q(status=Status.RUNNING, job_id=job_id) & heartbeat_stopped(now))
    return bool(
        Prediction.objects.filter(claimable, pk=prediction_id).update(
            status=Status.RUNNING,
            job_id=job_id,
            worker=worker[:200],
            stage=Stage.DOWNLOADING,
            started_at=now,
            heartbeat_at=now,
            error="",
            attempts=F("attempts") + 1,
        )
    )


def prediction_heartbeat(*, prediction_id: int, job_id: str) -> bool:
    """The holding worker is alive (called by core.jobs.heartbeat's thread)."""
    return bool(_running(prediction_id, job_id).update(heartbeat_at=timezone.now()))


def _running(prediction_id: int, job_id: str) -> QuerySet[Prediction]:
    return Prediction.objects.filter(pk=prediction_id, status=Status.RUNNING, job_id=job_id)


def prediction_set_stage(*, prediction_id: int, job_id: str, stage: str) -> None:
    _running(prediction_id, job_id).update(stage=stage)


def prediction_release(*, prediction_id: int, job_id: str, message: str) -> bool:
    """running → pending, so the task's retry can claim it again; the message says why it waits."""
    return bool(
        _running(prediction_id, job_id).update(
            status=Status.PENDING, stage=Stage.NONE, error=message, queued_at=timezone.now()
        )
    )


def prediction_fail(
    *, prediction_id: int, message: str, job_id: str | None = None, input_error: bool = False
) -> bool:
    """→ failed with a message for the user. With a job_id, only while that job still holds the row.
    `input_error`: the song itself is the problem, so the page offers another song, not a retry."""
    rows = (
        _running(prediction_id, job_id)
        if job_id
        else Prediction.objects.filter(pk=prediction_id, status__in=[Status.PENDING, Status.RUNNING])
    )
    return bool(rows.update(**_failed(message, timezone.now()), input_error=input_error))


def _failed(message: str, now: datetime) -> dict[str, object]:
    """The columns of a failed row: prediction_fail and the sweep's two failures write the same."""
    return {"status": Status.FAILED, "stage": Stage.NONE, "error": message, "finished_at": now}


def prediction_run(*, prediction_id: int, job_id: str, worker: str = "") -> None:
    """Run one prediction job. Raises TransientJobError (after releasing the row, if the database
    allows) for the task to retry; every other failure ends with the row failed and a message."""
    try:
        claimed = prediction_claim(prediction_id=prediction_id, job_id=job_id, worker=worker)
    except DATABASE_ERRORS as exc:
        raise TransientJobError(DATABASE_UNAVAILABLE, database=True) from exc
    if not claimed:
        log.info("Prediction %s is not claimable by job %s; nothing to do", prediction_id, job_id)
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
    if _running(prediction_id, job_id).update(
        status=Status.DONE, stage=Stage.NONE, finished_at=timezone.now()
    ):
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
    with _scratch_dir() as scratch:
        audio = _fetch_audio(prediction, scratch)
        prediction_set_stage(prediction_id=prediction.pk, job_id=job_id, stage=Stage.ANALYSING)
        mel = scratch / "mel.npz"
        # The promoted version, read per job: a promotion reaches running workers without a restart,
        # and each artifact is loaded once per worker process (get_predictor caches per folder).
        # Only the mel is saved here; an I/O worker draws the picture (prediction_spectrogram_render).
        result = predictor.get_predictor(served_model_dir()).predict(audio, spectrogram_mel=mel)
        _save_result(prediction, job_id, result, mel)


def prediction_preview_url(*, prediction: Prediction) -> str:
    """A fresh preview link for a catalog prediction (links expire, so none is stored).
    Catalog failures raise catalog.errors exceptions."""
    return previews.track_preview_url(prediction_track(prediction))


def prediction_audio_fetch(*, prediction: Prediction, dest: Path) -> Path:
    """Write the song's audio to `dest`: a copy of the upload, or a freshly resolved catalog
    preview (links expire, so none is stored). Catalog failures raise catalog.errors exceptions."""
    if prediction.source == Prediction.Source.UPLOAD:
        with prediction.upload.open("rb") as src, dest.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        return dest
    return previews.track_preview_fetch(prediction_track(prediction), dest_path=dest)


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


def analysis_extras(result: PredictionResult) -> dict[str, object]:
    """The estimator's second opinions: an alternative tempo, the beat times and a ranked list of
    other keys (names in our spelling; an entry we can't read is dropped)."""
    keys: list[str] = []
    for name, _score in result.key_alternatives:
        spelled = key_name(name)
        if spelled and spelled not in keys:
            keys.append(spelled)
    return {
        "tempo_alternative_bpm": result.tempo_alternative_bpm,
        "beat_times": [round(float(t), 3) for t in result.beat_times],
        "key_alternatives": keys,
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


# --- Sweep (beat) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepReport:
    requeued: int
    failed: int
    recovered: int = 0  # running jobs whose worker was gone, put back to pending and sent again
    pictures: int = 0  # done jobs whose spectrogram was never drawn (broker down at the time), sent again


def prediction_sweep(*, now: datetime | None = None) -> SweepReport:
    """Keep every job moving without a person:

    - running jobs whose heartbeat stopped (their worker died) go back to pending, to be sent
      again below; after PREDICTION_MAX_ATTEMPTS claims they fail instead, so a song that kills
      its worker cannot loop for ever;
    - pending jobs whose message may be lost (broker down at submit, a recovered job) are sent again;
    - running jobs older than PREDICTION_STALE_AFTER fail (a backstop: the time limit stops them first);
    - done jobs whose spectrogram is still undrawn a while after they finished are sent to be drawn
      again (its message was lost), so no page says "Drawing…" for ever.
    """
    now = now or timezone.now()
    recovered = _recover_orphans(now)
    requeue_before = now - timedelta(seconds=settings.PREDICTION_REQUEUE_AFTER)
    waiting = Prediction.objects.filter(status=Status.PENDING).filter(
        Q(queued_at__lt=requeue_before) | Q(queued_at__isnull=True, created_at__lt=requeue_before)
    )
    requeued = sum(prediction_enqueue(prediction_id=pk) for pk in waiting.values_list("pk", flat=True))
    stale_before = now - timedelta(seconds=settings.PREDICTION_STALE_AFTER)
    failed = Prediction.objects.filter(status=Status.RUNNING, started_at__lt=stale_before).update(
        **_failed(STALE_FAILURE, now)
    )
    pictures = _resend_undrawn_spectrograms(requeue_before)
    if requeued or failed or recovered or pictures:
        log.info(
            "Sweep: %s jobs of dead workers recovered, %s pending sent again, %s stale failed, "
            "%s spectrograms sent again",
            recovered,
            requeued,
            failed,
            pictures,
        )
    return SweepReport(requeued=requeued, failed=failed, recovered=recovered, pictures=pictures)


def _resend_undrawn_spectrograms(finished_before: datetime) -> int:
    undrawn = (
        Prediction.objects.filter(status=Status.DONE, spectrogram="", spectrogram_failed=False)
        .exclude(spectrogram_mel="")
        .filter(finished_at__lt=finished_before)
    )
    return sum(
        prediction_spectrogram_enqueue(prediction_id=pk) for pk in undrawn.values_list("pk", flat=True)
    )


def _recover_orphans(now: datetime) -> int:
    orphans = Prediction.objects.filter(status=Status.RUNNING).filter(orphaned(now))
    failed = orphans.filter(attempts__gte=settings.PREDICTION_MAX_ATTEMPTS).update(
        **_failed(WORKER_LOST_FAILURE, now)
    )
    if failed:
        log.warning(
            "Sweep: %s jobs failed after losing their worker %s times",
            failed,
            settings.PREDICTION_MAX_ATTEMPTS,
        )
    pks = list(orphans.values_list("pk", flat=True))
    # The old message, if the broker ever hands it out again, finds the row pending or held by the
    # new job, and does nothing harmful (see prediction_claim).
    orphans.filter(pk__in=pks).update(
        status=Status.PENDING, stage=Stage.NONE, job_id="", heartbeat_at=None, queued_at=None
    )
    back = Prediction.objects.filter(pk__in=pks, status=Status.PENDING, job_id="").values_list(
        "pk", flat=True
    )
    return sum(prediction_enqueue(prediction_id=pk) for pk in back)


# --- Review (admin) -------------------------------------------------------------------------


def prediction_review(*, prediction: Prediction, genre: str, reviewer: User) -> None:
    Prediction.objects.filter(pk=prediction.pk).update(
        reviewed_genre=genre, reviewed_by=reviewer, reviewed_at=timezone.now()
    )


# --- Corrections (the user) -----------------------------------------------------------------------


class CorrectionError(ValueError):
    """A correction that cannot be stored; the message says why, for the user."""


@transaction.atomic
def prediction_correct(
    *,
    prediction: Prediction,
    tempo_bpm: float | None = None,
    key: str | None = None,
    genre: str | None = None,
    reset: tuple[str, ...] = (),
) -> list[str]:
    """Store the user's tempo, key and/or genre for a done prediction (apart from the estimate and
    the admin's review), or forget them (`reset`: "tempo", "key", "genre"). Validates everything
    before it writes anything. Returns the names that changed; the samples follow through the
    `prediction_corrected` signal."""
    if prediction.status != Status.DONE:
        raise CorrectionError("Only a finished analysis can be corrected.")
    unknown = set(reset) - {"tempo", "key", "genre"}
    if unknown:
        raise CorrectionError(f"Nothing called {', '.join(sorted(unknown))} can be reset.")
    values: dict[str, object] = {}
    if tempo_bpm is not None:
        values["user_tempo_bpm"] = correction_tempo(tempo_bpm)
    if key is not None:
        values["user_key"] = correction_key(key)
    if genre is not None:
        values["user_genre"] = correction_genre(genre)
    for name in reset:
        field = _field_of(name)
        if field in values:
            raise CorrectionError(f"Either set the {name} or reset it, not both.")
        values[field] = None if name == "tempo" else ""
    if not values:
        raise CorrectionError("Say what to correct: a tempo, a key or a genre.")
    changed = [name for name in ("tempo", "key", "genre") if _field_of(name) in values]
    changed = [name for name in changed if getattr(prediction, _field_of(name)) != values[_field_of(name)]]
    if not changed:
        return []
    for field, value in values.items():
        setattr(prediction, field, value)
    prediction.corrected_at = timezone.now()
    prediction.save(update_fields=[*values, "corrected_at"])
    # Inside the transaction: the samples stage restarts with the correction or not at all.
    prediction_corrected.send(sender=Prediction, prediction_id=prediction.pk, fields=changed)
    return changed


def _field_of(name: str) -> str:
    return "user_tempo_bpm" if name == "tempo" else f"user_{name}"


def correction_tempo(bpm: float) -> float:
    if not MIN_USER_TEMPO <= bpm <= MAX_USER_TEMPO:
        raise CorrectionError(
            f"A tempo between {MIN_USER_TEMPO:.0f} and {MAX_USER_TEMPO:.0f} BPM, please (got {bpm:g})."
        )
    return round(float(bpm), 1)


def correction_key(key: str) -> str:
    name = key_name(key)
    if not name:
        raise CorrectionError(f"“{key[:20]}” is not a key; write it like “A minor” or “Eb major”.")
    return name


def correction_genre(genre: str) -> str:
    slugs = [slug for slug, _ in genre_choices()]
    if genre != USER_GENRE_NONE and genre not in slugs:
        raise CorrectionError(f"Choose one of {', '.join(genre_name(s) for s in slugs)}, or “none of these”.")
    return genre
