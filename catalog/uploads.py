"""Checks for an uploaded song: a size cap and a type recognised from the file's content."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat

from .sniff import FORMAT_LABELS, sniff_file

ACCEPTED = ", ".join(FORMAT_LABELS.values())
# For the file picker only: the server never trusts the name.
ACCEPT_ATTR = ".mp3,.wav,.flac,.ogg,.oga,.m4a,.mp4,.aac,audio/*"


# Multipart boundaries and headers around the file: a body this much over the limit may still be fine.
UPLOAD_ENVELOPE_BYTES = 64 * 1024


def upload_limit_label() -> str:
    return filesizeformat(settings.UPLOAD_MAX_BYTES)


def upload_declared_too_large(content_length: str) -> str | None:
    """A message when a request's declared length is over the limit, so it can be refused before
    Django reads the body into a temporary file; None otherwise."""
    if content_length.isdigit() and int(content_length) > settings.UPLOAD_MAX_BYTES + UPLOAD_ENVELOPE_BYTES:
        return f"This file is too large; the limit is {upload_limit_label()}."
    return None


def validate_upload(file: UploadedFile) -> str:
    """The detected format ('mp3', 'wav', ...), or ValidationError with a sentence the user can act on."""
    limit = settings.UPLOAD_MAX_BYTES
    if not file.size:
        raise ValidationError("This file is empty. Choose an audio file.", code="empty")
    if file.size > limit:
        raise ValidationError(
            f"This file is {filesizeformat(file.size)}; the limit is {filesizeformat(limit)}. "
            "Upload a shorter excerpt (30 seconds are enough) or a compressed format such as MP3.",
            code="too_large",
        )
    file.seek(0)
    kind = sniff_file(file)  # type: ignore[arg-type]
    if kind is None:
        raise ValidationError(
            f"“{file.name}” is not an audio file Seven/Four can read. Upload {ACCEPTED}.",
            code="not_audio",
        )
    return kind
