"""Turning a choice on the New prediction page into a prediction, through predictions' one service."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from django.core.files.uploadedfile import UploadedFile

from .errors import ProviderUnavailable, RateLimited
from .previews import resolve_preview_url
from .providers import get_provider
from .types import Track

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from accounts.models import User
    from predictions.models import Prediction


def prediction_create_from_track(*, user: User, provider: str, track_id: str) -> Prediction:
    """The track is fetched again by id: the page's copy of its title or ISRC is never trusted.
    Only ids and the ISRC are stored; the preview is resolved when the job runs."""
    from predictions.services import prediction_create

    track = get_provider(provider).get_track(track_id)
    _check_preview(track)
    return prediction_create(
        user=user,
        source=track.provider,
        source_track_id=track.id,
        isrc=track.isrc,
        title=track.title,
        artist=track.artist,
        album=track.album,
        artwork_url=track.artwork_url,
        duration_s=track.duration_s,
    )


def _check_preview(track: Track) -> None:
    """Refuse a track no preview can be found for (NoPreview), so no job is queued only to fail.
    A busy or failing provider is no reason to refuse: the job resolves the preview again anyway."""
    try:
        resolve_preview_url(
            provider=track.provider,
            track_id=track.id,
            isrc=track.isrc,
            title=track.title,
            artist=track.artist,
        )
    except (RateLimited, ProviderUnavailable) as exc:
        log.info("Preview of %s:%s not checked now (%s); the job will", track.provider, track.id, exc.detail)


def prediction_create_from_upload(*, user: User, upload: UploadedFile) -> Prediction:
    """`upload` must have passed catalog.uploads.validate_upload."""
    from predictions.services import prediction_create

    title = Path(upload.name or "Uploaded song").stem.replace("_", " ").strip()[:300] or "Uploaded song"
    return prediction_create(user=user, source="upload", title=title, upload=upload)
