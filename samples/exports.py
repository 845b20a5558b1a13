"""Pack ZIPs: writing a pack's ZIP (the originals, or conformed to a song), and the PackExport job
that builds one on an I/O worker (request, send, claim, build, fail, sweep)."""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from dataclasses import replace
from datetime import datetime
from typing import IO

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from core.jobs import (
    DATABASE_ERRORS,
    JobRetry,
    SweepReport,
    heartbeat,
    job_beat,
    job_claim,
    job_claimed,
    job_fail,
    job_finish,
    job_held,
    job_sweep,
    task_send,
)
from predictions.models import Prediction

from .conform.conforming import SongGrid, conformed_file, song_grid
from .downloads import PreviewError, PreviewMissing, preview_fetch
from .freesound import FreesoundError
from .freesound_oauth import NotConnected, account_connected
from .models import Pack, PackExport, PackItem, Sound, SoundOriginal
from .originals import original_get
from .quota import quota_charge
from .sounds import sound_refresh
from .zips import EACH_OWN_SONG, Conform, ConformedFile, ConformTarget, Progress, ZipSound, zip_write

log = logging.getLogger(__name__)

# The tasks (samples/tasks.py) are sent by name: the tasks module imports this one. They run on
# the I/O workers (the default `celery` queue).
BUILD_PACK_ZIP_TASK = "samples.build_pack_zip"
SWEEP_EXPORTS_TASK = "samples.sweep_exports"


# --- Writing a ZIP ------------------------------------------------------------------------------------


# Why a sound of a ZIP conformed "each to the song it was saved from" kept its original.
NO_SONG = (
    "the song it was saved from is not known (saved before songs were recorded, or from a page "
    "without a song); the original is included"
)


def pack_signature(
    pack: Pack, *, contents: str = PackExport.Contents.ORIGINALS, song: Prediction | None = None
) -> str:
    """What a ZIP holds: the pack as it is, and for conformed files the songs' tempo and key now (a
    corrected tempo needs a new ZIP): `song`'s for all, or without one each item's own song's;
    and whether the owner's Freesound account gives the original files (connecting needs a new ZIP)."""
    items = list(pack.items.order_by("id").select_related("sound", "song"))
    ids = ",".join(str(item.sound.freesound_id) for item in items)
    extra = "|with-originals" if account_connected(user=pack.owner) else ""
    if contents != PackExport.Contents.ORIGINALS and song is not None:
        grid = song_grid(song)
        extra += f"|{contents}|{song.pk}|{grid.tempo_bpm}|{grid.key}"
    elif contents != PackExport.Contents.ORIGINALS:
        grids = _SongGrids()
        each = ";".join(f"{item.sound.freesound_id}:{grids.label(item.song)}" for item in items)
        extra += f"|{contents}|each|{each}"
    return hashlib.sha256(f"{pack.name}|{pack.notes}|{ids}{extra}".encode()).hexdigest()


class _SongGrids:
    """Each song's grid, read once per ZIP."""

    def __init__(self) -> None:
        self._grids: dict[int, SongGrid] = {}

    def get(self, song: Prediction) -> SongGrid:
        if song.pk not in self._grids:
            self._grids[song.pk] = song_grid(song)
        return self._grids[song.pk]

    def label(self, song: Prediction | None) -> str:
        if song is None:
            return "-"
        grid = self.get(song)
        return f"{song.pk}/{grid.tempo_bpm}/{grid.key}"


def _zip_sounds(items: list[PackItem], originals: dict[int, SoundOriginal | str]) -> list[ZipSound]:
    sounds = []
    for s in (item.sound for item in items):
        original = originals.get(s.freesound_id)
        kept = original if isinstance(original, SoundOriginal) else None
        sounds.append(
            ZipSound(
                s.freesound_id,
                s.name,
                s.author,
                s.licence_url,
                s.page_url,
                s.preview_url,
                s.duration,
                s.bpm,
                s.key,
                s.tags,
                suffix=kept.container if kept is not None else "mp3",
                original=kept is not None,
                note=original if isinstance(original, str) else "",
            )
        )
    return sounds


def _originals(
    *, pack: Pack, items: list[PackItem], deadline: float | None = None
) -> dict[int, SoundOriginal | str]:
    """Each sound's original with the owner's Freesound account, or why its preview stands in;
    empty when the owner has no connection (previews, as without an account). With a `deadline`
    (time.monotonic()), no download may outlast it: ZipDeadline is raised instead."""
    if not account_connected(user=pack.owner):
        return {}
    found: dict[int, SoundOriginal | str] = {}
    for sound in (item.sound for item in items):
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise ZipDeadline(f"pack {pack.pk}")
        try:
            found[sound.freesound_id] = original_get(sound=sound, user=pack.owner, total_timeout=left)
        except NotConnected as exc:  # lost on the way: the rest are previews too
            for rest in (item.sound for item in items):
                found.setdefault(rest.freesound_id, str(exc))
            break
        except FreesoundError as exc:
            if deadline is not None and time.monotonic() >= deadline:
                raise ZipDeadline(f"pack {pack.pk}") from exc
            log.warning(
                "Original of %s left out of pack %s: %s (%s)", sound.freesound_id, pack.pk, exc, exc.detail
            )
            found[sound.freesound_id] = f"the original could not be downloaded ({exc})"
    return found


class ZipDeadline(Exception):
    """A ZIP built inside a web request ran out of its time (PACK_ZIP_REQUEST_SECONDS): the
    caller hands the pack to a worker instead of letting the web server kill the request."""


def _fetch_preview(
    url: str, *, sounds_by_url: dict[str, Sound], total_timeout: float | None = None
) -> bytes | None:
    """The preview, or None when Freesound no longer has the sound (404 tolerated, not fatal)."""
    try:
        return preview_fetch(url=url, total_timeout=total_timeout)
    except PreviewMissing:
        sound = sounds_by_url.get(url)
        fresh = sound_refresh(sound=sound) if sound is not None else None
        if fresh is None or fresh.preview_url == url:
            return None
        try:
            return preview_fetch(url=fresh.preview_url, total_timeout=total_timeout)
        except PreviewMissing:
            return None


def _conformer(
    *, items: list[PackItem], song: Prediction | None, owner: User
) -> tuple[Conform, ConformTarget]:
    """How each sound is conformed: to `song`, or without one to the song it was saved from (a
    sound whose song is not known keeps its original, and the ZIP says why). New renders count
    against the `owner`'s quota, and are made from originals when the owner has a Freesound account
    connected."""
    by_id = {item.sound.freesound_id: item for item in items}
    if song is not None:
        grid = song_grid(song)

        def to_song(zip_sound: ZipSound) -> ConformedFile:
            return conformed_file(sound=by_id[zip_sound.freesound_id].sound, grid=grid, user=owner)

        return to_song, ConformTarget(song.display_title, grid.tempo_bpm, grid.key)
    grids = _SongGrids()

    def to_own_song(zip_sound: ZipSound) -> ConformedFile:
        item = by_id[zip_sound.freesound_id]
        if item.song is None:
            return ConformedFile("", None, "", error=NO_SONG)
        render = conformed_file(sound=item.sound, grid=grids.get(item.song), user=owner)
        return replace(render, song=item.song.display_title)

    return to_own_song, EACH_OWN_SONG


def pack_zip_write(
    *,
    pack: Pack,
    target: IO[bytes],
    progress: Progress | None = None,
    contents: str = PackExport.Contents.ORIGINALS,
    song: Prediction | None = None,
    deadline: float | None = None,
) -> set[int]:
    """Write the pack's ZIP into a binary file object; returns the ids of sounds left out (gone).
    Conformed WAVs (to `song`, or without one each to the song it was saved from) are rendered, or
    taken from the cache, here: call it on a worker. New renders count against the pack owner's
    quota (samples.quota), and a sound is left unrendered once it is used up. With a `deadline`
    (time.monotonic()), no download may outlast it: ZipDeadline is raised instead."""
    items = list(pack.items.select_related("sound", "song", "pack__owner"))
    sounds_by_url = {item.sound.preview_url: item.sound for item in items}
    originals = _originals(pack=pack, items=items, deadline=deadline)

    def fetch(zip_sound: ZipSound) -> bytes | IO[bytes] | None:
        original = originals.get(zip_sound.freesound_id)
        if isinstance(original, SoundOriginal):
            return original.file.open("rb")
        url = zip_sound.preview_url
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise ZipDeadline(f"pack {pack.pk}")
        try:
            return _fetch_preview(url, sounds_by_url=sounds_by_url, total_timeout=left)
        except PreviewError as exc:
            if deadline is not None and time.monotonic() >= deadline:
                raise ZipDeadline(f"pack {pack.pk}") from exc
            raise
        except FreesoundError as exc:  # could not check whether it is gone: leave it out, say so
            log.warning("Preview %s left out of pack %s: %s", url, pack.pk, exc)
            return None

    conform: Conform | None = None
    target_info: ConformTarget | None = None
    if contents != PackExport.Contents.ORIGINALS:
        conform, target_info = _conformer(items=items, song=song, owner=pack.owner)

    return zip_write(
        target,
        pack_name=pack.name,
        notes=pack.notes,
        created=pack.created_at,
        sounds=_zip_sounds(items, originals),
        fetch=fetch,
        progress=progress,
        contents=contents if conform is not None else PackExport.Contents.ORIGINALS,
        conform=conform,
        conform_target=target_info,
    )


# --- The export job -----------------------------------------------------------------------------------


EXPORT_FAILURE = "The ZIP could not be built; try again."
EXPORT_WORKER_LOST = "The ZIP build was interrupted several times (its worker stopped); try again."
EXPORT_STALE = "The ZIP took too long to build and was stopped; try again."
EXPORT_DATABASE_UNAVAILABLE = "The database was unavailable for a moment; the ZIP will be built shortly."


class ExportRetry(JobRetry):
    """The build hit a transient error (the database): the task retries it later."""


def pack_export_request(
    *, pack: Pack, contents: str = PackExport.Contents.ORIGINALS, song: Prediction | None = None
) -> PackExport:
    """A ZIP for the pack as it is now (originals, or conformed, or both: to `song`, or without one
    each sound to the song it was saved from): a finished or running one if the pack has not
    changed, else a new job. Asking again for one that is stuck (its message lost, its worker dead)
    sends it again, or, once it has lost its worker too often, fails it and starts a new one."""
    if contents == PackExport.Contents.ORIGINALS:
        song = None
    signature = pack_signature(pack, contents=contents, song=song)
    current = pack.exports.filter(signature=signature).exclude(status=PackExport.Status.FAILED).first()
    if current is not None:
        if current.status == PackExport.Status.DONE:
            export_touch(current)
            return current
        if current.status == PackExport.Status.PENDING and current.queued_at is None:
            pack_export_enqueue(export_id=current.pk)  # the broker was down when it was asked for
        pack_export_sweep(rows=PackExport.objects.filter(pk=current.pk))
        current.refresh_from_db()
        if current.status != PackExport.Status.FAILED:
            return current
    export = PackExport.objects.create(pack=pack, signature=signature, contents=contents, song=song)
    # A named function that never raises: on_commit(robust=True) needs a __qualname__ to log a
    # failure, and a partial has none, so a broker outage used to turn into a 500.
    export_id = export.pk
    transaction.on_commit(lambda: pack_export_enqueue(export_id=export_id))
    return export


def pack_export_enqueue(*, export_id: int) -> bool:
    """Send the build task. A broker outage leaves the export pending for the sweep (or the next
    request) to send again, so this logs and returns False instead of raising."""
    if not task_send(BUILD_PACK_ZIP_TASK, export_id, waiting=f"pack ZIP {export_id} waits for the sweep"):
        return False
    PackExport.objects.filter(pk=export_id, status=PackExport.Status.PENDING).update(queued_at=timezone.now())
    return True


def _row(export_id: int) -> QuerySet[PackExport]:
    return PackExport.objects.filter(pk=export_id)


def pack_export_claim(*, export_id: int, job_id: str, worker: str = "") -> bool:
    """pending → running for this task id (core.jobs.job_claim): a duplicate delivery is a no-op,
    and a redelivery of the same message takes over only once the row's heartbeat stopped."""
    return job_claim(_row(export_id), job_id=job_id, worker=worker, progress=0)


def pack_export_build(*, export_id: int, job_id: str = "", worker: str = "") -> None:
    """The worker's job. Claims the row with a conditional UPDATE so a redelivered or duplicate
    message is a no-op; every later write only lands while this job still holds the row."""
    job_id = job_id or f"local-{export_id}"
    if not job_claimed(
        lambda: pack_export_claim(export_id=export_id, job_id=job_id, worker=worker),
        retry=lambda: ExportRetry(EXPORT_DATABASE_UNAVAILABLE, database=True),
        what=f"Pack ZIP {export_id}",
        job_id=job_id,
    ):
        return
    try:
        with heartbeat(
            lambda: job_beat(_row(export_id), job_id=job_id),
            interval=settings.PREDICTION_HEARTBEAT_INTERVAL,
        ):
            name = _build_zip(export_id, job_id)
            size = PackExport.file.field.storage.size(name)
            done = job_finish(
                _row(export_id),
                job_id=job_id,
                progress=100,
                file=name,
                size_bytes=size,
                last_used_at=timezone.now(),
            )
            quota_charge(user_id=_owner_id(export_id), size=size)
    except (PreviewError, OSError) as exc:
        log.exception("ZIP of pack export %s failed", export_id)
        job_fail(
            _row(export_id),
            job_id=job_id,
            message=f"The ZIP could not be built ({exc.__class__.__name__}); try again.",
        )
        return
    except DATABASE_ERRORS as exc:
        raise ExportRetry(EXPORT_DATABASE_UNAVAILABLE, database=True) from exc
    if not done:
        PackExport.file.field.storage.delete(name)  # another job took the row meanwhile


def _build_zip(export_id: int, job_id: str) -> str:
    export = PackExport.objects.select_related("pack", "song").get(pk=export_id)

    def progress(done: int, total: int) -> None:
        job_held(_row(export_id), job_id=job_id).update(
            progress=int(done * 100 / max(total, 1)), heartbeat_at=timezone.now()
        )

    with tempfile.TemporaryFile() as tmp:
        pack_zip_write(
            pack=export.pack, target=tmp, progress=progress, contents=export.contents, song=export.song
        )
        tmp.seek(0)
        return export.file.storage.save(
            export.file.field.generate_filename(export, f"pack-{export.pack_id}-{export_id}.zip"), File(tmp)
        )


def _owner_id(export_id: int) -> int | None:
    return Pack.objects.filter(exports=export_id).values_list("owner_id", flat=True).first()


def export_touch(export: PackExport) -> None:
    """Note that the ZIP was downloaded or asked for again, for the expiry's LRU order."""
    PackExport.objects.filter(pk=export.pk).update(last_used_at=timezone.now())


def pack_export_fail(*, export_id: int, message: str) -> None:
    job_fail(_row(export_id), message=message)


def pack_export_sweep(
    *, rows: QuerySet[PackExport] | None = None, now: datetime | None = None
) -> SweepReport:
    """Keep pack ZIPs moving, like predictions.jobs.prediction_sweep (core.jobs.job_sweep): running
    exports whose heartbeat stopped go back to pending (or fail after PREDICTION_MAX_ATTEMPTS),
    pending ones whose message may be lost are sent again, and ones running past every time limit fail."""
    return job_sweep(
        PackExport.objects.all() if rows is None else rows,
        send=lambda pk: pack_export_enqueue(export_id=pk),
        stale_message=EXPORT_STALE,
        lost_message=EXPORT_WORKER_LOST,
        now=now,
    )
