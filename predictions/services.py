"""Writes for predictions from the web: create and enqueue, re-run, delete, the song's audio, review.

The job itself (claim, run, sweep, the spectrogram) is in predictions.jobs, the user's
corrections in predictions.corrections.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from catalog import previews
from catalog.services import track_identity_fetch
from catalog.sniff import sniff_file
from catalog.types import TrackIdentity
from core.jobs import task_send

from .models import Prediction
from .uploads import storage_refusals

Status = Prediction.Status

# The tasks (predictions/tasks.py) are sent by name: the tasks module imports this one.
PREDICT_GENRE_TASK = "predictions.predict_genre"
SWEEP_PREDICTIONS_TASK = "predictions.sweep"
RENDER_SPECTROGRAM_TASK = "predictions.render_spectrogram"  # the I/O queue: matplotlib stays off the ML path


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
    """`upload` must have passed predictions.uploads.validate_upload. Raises StorageRefused when the
    storage cannot keep it.

    The user's file name becomes the title only. The file is stored under a random name with the
    sniffed format's extension: nobody can guess another user's path, and no name (too long,
    `..`, an `.html` extension) ever reaches the file system or the served content type."""
    track = TrackIdentity.for_upload(upload.name or "")
    upload.name = stored_upload_name(sniff_file(upload) or "audio")
    with storage_refusals():  # a full or read-only storage: StorageRefused, and no row
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


# --- The song's audio (the ML job, training data) --------------------------------------------------


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


# --- Review (admin) -------------------------------------------------------------------------


def prediction_review(*, prediction: Prediction, genre: str, reviewer: User) -> None:
    Prediction.objects.filter(pk=prediction.pk).update(
        reviewed_genre=genre, reviewed_by=reviewer, reviewed_at=timezone.now()
    )
