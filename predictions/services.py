"""Writes for predictions: create, enqueue, and (in the worker) run the job."""

from __future__ import annotations

import logging

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import User

from .models import Prediction

log = logging.getLogger(__name__)


@transaction.atomic
def prediction_create(
    *,
    user: User,
    source: str,
    source_track_id: str = "",
    isrc: str = "",
    title: str = "",
    artist: str = "",
    album: str = "",
    artwork_url: str = "",
    duration_s: int | None = None,
    upload: UploadedFile | None = None,
    rerun_of: Prediction | None = None,
) -> Prediction:
    """Save a pending prediction and enqueue its job once the transaction commits."""
    prediction = Prediction(
        owner=user,
        source=source,
        source_track_id=source_track_id,
        isrc=isrc,
        title=title,
        artist=artist,
        album=album,
        artwork_url=artwork_url,
        duration_s=duration_s,
        rerun_of=rerun_of,
    )
    if upload is not None:
        prediction.upload.save(upload.name, upload, save=False)
    prediction.full_clean(exclude=["upload", "artwork_url"])
    prediction.save()
    transaction.on_commit(lambda: prediction_enqueue(prediction_id=prediction.pk))
    return prediction


def prediction_enqueue(*, prediction_id: int) -> bool:
    """Send the job to the broker. A broker outage is not the user's problem: the row stays
    pending and the periodic sweep sends it again, so this returns False instead of raising."""
    from worker.tasks import predict_genre_task

    try:
        predict_genre_task.apply_async(args=[prediction_id], retry=False)
    except Exception:  # kombu raises OperationalError, redis ConnectionError, OSError...
        log.warning("Broker unavailable; prediction %s stays pending for the sweep", prediction_id, exc_info=True)
        return False
    Prediction.objects.filter(pk=prediction_id, status=Prediction.Status.PENDING).update(queued_at=timezone.now())
    return True
