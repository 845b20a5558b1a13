"""Original uploads (WAV, AIFF, FLAC, or whatever the author uploaded) from Freesound's download
endpoint with a user's own account (`GET /apiv2/sounds/<id>/download/`, `Authorization: Bearer`).

Streamed to a temporary file through core.http's guards (Freesound's API host only, https, a size
cap, a deadline for the whole body, the first bytes sniffed as audio by worker.audio.sniff), then
kept once per sound (SoundOriginal) and served from there to every user with a connection of
their own. Users without one get previews, as before: originals are never handed to them."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import IO
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction

from accounts.models import User
from core.http import BadStatus, DownloadError, DownloadPolicy, download_to_file
from worker.audio.sniff import HEAD_BYTES, detect_audio_format, sniff_file

from .budget import BudgetSpent, FreesoundBudget, default_budget
from .freesound import FreesoundError, Throttled
from .freesound_oauth import NotConnected, access_token, account_connected, connection_lost
from .models import Sound, SoundOriginal

log = logging.getLogger(__name__)

# What Freesound accepts as uploads; anything else in the body is refused.
ORIGINAL_CONTAINERS = frozenset({"wav", "aiff", "flac", "ogg", "mp3", "m4a"})
_LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


class OriginalError(FreesoundError):
    """The original could not be had this time; str() is a sentence for the user."""


class OriginalMissing(OriginalError):
    def __init__(self, *, detail: str = "") -> None:
        super().__init__("Freesound has no original file for this sound any more.", detail=detail)


def _policy(total_timeout: float | None = None) -> DownloadPolicy:
    host = (urlsplit(settings.FREESOUND_API_URL).hostname or "").lower()
    loopback = bool(settings.PREVIEW_ALLOW_LOOPBACK)
    total = settings.FREESOUND_ORIGINAL_TOTAL_TIMEOUT
    if total_timeout is not None:
        total = max(min(total_timeout, total), 0.1)
    return DownloadPolicy(
        allowed_hosts=[host, *(_LOOPBACK_HOSTS if loopback else ())],
        max_bytes=settings.FREESOUND_ORIGINAL_MAX_BYTES,
        connect_timeout=settings.FREESOUND_CONNECT_TIMEOUT,
        read_timeout=settings.PREVIEW_READ_TIMEOUT,
        total_timeout=total,
        allow_loopback=loopback,
        max_redirects=3,  # to the same scheme, host and port only (the Bearer token never leaves it)
        label="sound's original file",
        head_bytes=HEAD_BYTES,
        head_check=lambda head: detect_audio_format(head) in ORIGINAL_CONTAINERS,
        head_label="an audio file",
    )


def original_cached(*, sound: Sound) -> SoundOriginal | None:
    row = SoundOriginal.objects.filter(sound=sound).first()
    if row is not None and row.file and row.file.storage.exists(row.file.name):
        return row
    return None


def original_get(
    *, sound: Sound, user: User, budget: FreesoundBudget | None = None, total_timeout: float | None = None
) -> SoundOriginal:
    """The sound's original for this user: the cached one, else downloaded with their account
    (`total_timeout`, when given, may only shorten the usual time: a caller with a deadline).
    Raises NotConnected/ConnectionLost (no connection: previews only), OriginalMissing (404),
    Throttled (Freesound's limit, or our budget), OriginalError (anything else)."""
    if not account_connected(user=user):
        raise NotConnected()
    cached = original_cached(sound=sound)
    if cached is not None:
        return cached
    token = access_token(user=user)
    try:
        (budget or default_budget()).acquire()  # downloads count against the key's limits too
    except BudgetSpent as spent:
        raise Throttled(spent.retry_after, daily=spent.daily, detail=spent.detail) from spent
    url = urljoin(settings.FREESOUND_API_URL, f"sounds/{int(sound.freesound_id)}/download/")
    with tempfile.TemporaryDirectory(prefix="freesound-original-") as folder:
        path = Path(folder) / "original"
        try:
            download_to_file(url, path, _policy(total_timeout), headers={"Authorization": f"Bearer {token}"})
        except BadStatus as exc:
            _raise_for(exc, user=user, budget=budget)
        except DownloadError as exc:
            raise OriginalError(f"The original could not be downloaded: {exc}", detail=exc.detail) from exc
        with path.open("rb") as handle:
            container = sniff_file(handle)
            if container not in ORIGINAL_CONTAINERS:  # the head passed; what follows an ID3 tag did not
                raise OriginalError("Freesound sent something that is not an audio file.")
            return _keep(sound=sound, handle=handle, container=str(container), size=path.stat().st_size)


def _raise_for(exc: BadStatus, *, user: User, budget: FreesoundBudget | None) -> None:
    if exc.status == 404:
        raise OriginalMissing(detail=exc.detail) from exc
    if exc.status == 401:  # a fresh token refused: the user removed the app's access on Freesound
        connection_lost(user=user, detail=exc.detail)
        raise NotConnected(
            "Freesound no longer accepts your account's connection; connect it again to download originals.",
            detail=exc.detail,
        ) from exc
    if exc.status == 429:
        raise Throttled((budget or default_budget()).block(daily=False), detail=exc.detail) from exc
    raise OriginalError(
        "Freesound could not send the original right now; try again later.", detail=exc.detail
    ) from exc


def _keep(*, sound: Sound, handle: IO[bytes], container: str, size: int) -> SoundOriginal:
    row = SoundOriginal(sound=sound, container=container, size=size)
    row.file.save(f"{sound.freesound_id}.{container}", File(handle), save=False)
    try:
        with transaction.atomic():
            SoundOriginal.objects.filter(sound=sound).delete()  # a row whose file went missing
            row.save()
    except IntegrityError:  # another download of the same sound finished first: keep that one
        row.file.storage.delete(row.file.name)
        return SoundOriginal.objects.get(sound=sound)
    return row
