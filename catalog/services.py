"""Turning a choice on the New prediction page into a prediction, through predictions' one service."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from django.core.files.uploadedfile import UploadedFile

from .providers import get_provider
from .sniff import sniff_file

if TYPE_CHECKING:
    from accounts.models import User
    from predictions.models import Prediction


def prediction_create_from_track(*, user: User, provider: str, track_id: str) -> Prediction:
    """The track is fetched again by id: the page's copy of its title or ISRC is never trusted.
    Only ids and the ISRC are stored; the preview is resolved when the job runs."""
    from predictions.services import prediction_create

    track = get_provider(provider).get_track(track_id)
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


def prediction_create_from_upload(*, user: User, upload: UploadedFile) -> Prediction:
    """`upload` must have passed catalog.uploads.validate_upload.

    The user's file name becomes the title only. The file is stored under a random name with the
    sniffed format's extension: nobody can guess another user's path, and no name (too long,
    `..`, an `.html` extension) ever reaches the file system or the served content type."""
    from predictions.services import prediction_create

    title = upload_title(upload.name or "")
    upload.name = stored_upload_name(sniff_file(upload) or "audio")  # type: ignore[arg-type]
    return prediction_create(user=user, source="upload", title=title, upload=upload)


def upload_title(file_name: str) -> str:
    title = Path(file_name.replace("\\", "/")).stem.replace("_", " ").strip()
    return title[:300] if title.strip(". ") else "Uploaded song"


def stored_upload_name(detected_format: str) -> str:
    return f"{secrets.token_urlsafe(18)}.{detected_format}"
