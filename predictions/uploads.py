"""Checks for an uploaded song: a size cap, a type recognised from the file's content, and a length
the model can use."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat

from catalog.sniff import FORMAT_LABELS, sniff_file
from core.http import declared_content_length
from worker.audio.decode import MIN_DURATION_S, audio_duration_s

ACCEPTED = ", ".join(FORMAT_LABELS.values())
# For the file picker only: the server never trusts the name.
ACCEPT_ATTR = ".mp3,.wav,.flac,.ogg,.oga,.m4a,.mp4,.aac,audio/*"


# Multipart boundaries and headers around the file: a body this much over the limit may still be fine.
UPLOAD_ENVELOPE_BYTES = 64 * 1024


# What to do about it: a 4-minute WAV bounce is about 40 MB, and the model hears 30 seconds anyway.
TOO_LARGE_HINT = "Export a shorter excerpt (30 seconds are enough) or an MP3, and upload that."


# The storage refused to keep a file: full (ENOSPC, EDQUOT) or read-only (EROFS, EACCES, EPERM).
# A condition of the server, not of the file, so the answer is a 503 to retry later (issue 28.6).
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})
STORAGE_UNAVAILABLE = (
    "Seven/Four cannot store uploaded files right now (its storage is full or read-only), so your "
    "file was not kept. Try again in a few minutes, or pick the song from the catalog instead."
)
STORAGE_RETRY_AFTER = 300


class StorageRefused(Exception):
    """The storage refused to keep a file (one of STORAGE_ERRNOS): the server's condition, not the
    file's, so the page and the API answer 503 and a job is retried later."""


@contextmanager
def storage_refusals() -> Iterator[None]:
    """Turn the storage's refusal (an OSError with one of STORAGE_ERRNOS) into StorageRefused."""
    try:
        yield
    except OSError as exc:
        if exc.errno in STORAGE_ERRNOS:
            raise StorageRefused(str(exc)) from exc
        raise


def upload_limit_label() -> str:
    return filesizeformat(settings.UPLOAD_MAX_BYTES)


def too_large_message(size: int, *, what: str = "file") -> str:
    return f"This {what} is {filesizeformat(size)}; the limit is {upload_limit_label()}. {TOO_LARGE_HINT}"


def upload_declared_too_large(content_length: str | None) -> str | None:
    """A message when a request's declared length is over the limit, so it can be refused before
    Django reads the body into a temporary file; None otherwise."""
    declared = declared_content_length(content_length)
    if declared is not None and declared > settings.UPLOAD_MAX_BYTES + UPLOAD_ENVELOPE_BYTES:
        # The body also holds the form's boundaries and headers: hence "upload", not "file".
        return too_large_message(declared, what="upload")
    return None


def _duration_s(file: UploadedFile) -> float | None:
    """The upload's length in seconds when libsndfile can read it from the headers (WAV, FLAC, Ogg,
    AIFF, MP3), else None and the job decides (raw AAC, MP4: only decoding tells)."""
    file.seek(0)
    try:
        return audio_duration_s(file)
    finally:
        file.seek(0)


def validate_upload(file: UploadedFile) -> str:
    """The detected format ('mp3', 'wav', ...), or ValidationError with a sentence the user can act on."""
    limit = settings.UPLOAD_MAX_BYTES
    if not file.size:
        raise ValidationError("This file is empty. Choose an audio file.", code="empty")
    if file.size > limit:
        raise ValidationError(too_large_message(file.size), code="too_large")
    file.seek(0)
    kind = sniff_file(file)
    if kind is None:
        raise ValidationError(
            f"“{file.name}” is not an audio file Seven/Four can read. Upload {ACCEPTED}.",
            code="not_audio",
        )
    # Refused here rather than by the job a minute later, when the clip is plainly too short.
    duration_s = _duration_s(file)
    if duration_s is not None and duration_s < MIN_DURATION_S:
        raise ValidationError(
            f"“{file.name}” lasts {duration_s:.1f} s; Seven/Four needs at least {MIN_DURATION_S:.0f} s "
            "of audio. Upload a longer excerpt (30 seconds are ideal).",
            code="too_short",
        )
    return kind
