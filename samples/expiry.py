"""Expiry of renders and pack ZIPs, run by beat (samples.expire_files): files unused for their max
age go, then the least recently used ones until each kind is under its disk budget (settings
RENDERS_MAX_BYTES, EXPORTS_MAX_BYTES, RENDERS_MAX_AGE_DAYS, EXPORTS_MAX_AGE_DAYS).

"Used" is `last_used_at` (touched when a file is played, downloaded or asked for again), else when
the job finished. An expired render's row is deleted with its file: asking for it again renders it
again. An expired ZIP's row stays, failed with EXPORT_EXPIRED, so its page says what happened and
offers to build it again. Each row goes with a conditional statement on its state and file, so a
render sent again meanwhile is not touched; the file is deleted after its row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import ConformedRender, PackExport

log = logging.getLogger(__name__)

EXPIRE_FILES_TASK = "samples.expire_files"
EXPORT_EXPIRED = (
    "This ZIP was deleted to save space, as it had not been downloaded for a while; ask for it again."
)


@dataclass(frozen=True)
class ExpiryReport:
    renders: int  # deleted
    exports: int  # marked expired
    render_bytes: int  # kept on disk
    export_bytes: int


def files_expire(*, now: datetime | None = None) -> ExpiryReport:
    now = now or timezone.now()
    renders, render_bytes = _expire(
        ConformedRender.objects.filter(status=ConformedRender.Status.DONE),
        max_bytes=settings.RENDERS_MAX_BYTES,
        oldest=now - timedelta(days=settings.RENDERS_MAX_AGE_DAYS),
        drop=_render_drop,
    )
    exports, export_bytes = _expire(
        PackExport.objects.filter(status=PackExport.Status.DONE),
        max_bytes=settings.EXPORTS_MAX_BYTES,
        oldest=now - timedelta(days=settings.EXPORTS_MAX_AGE_DAYS),
        drop=_export_drop,
    )
    return ExpiryReport(renders, exports, render_bytes, export_bytes)


def _expire(
    rows: QuerySet[ConformedRender] | QuerySet[PackExport],
    *,
    max_bytes: int,
    oldest: datetime,
    drop: Callable[[int, str], bool],
) -> tuple[int, int]:
    """Drop rows least recently used first while they are older than `oldest` or the total is over
    `max_bytes`; returns (rows dropped, bytes kept)."""
    rows = rows.exclude(file="")
    _fill_sizes(rows)
    entries = list(
        rows.annotate(used=Coalesce("last_used_at", "finished_at", "created_at"))
        .order_by("used", "pk")
        .values_list("pk", "file", "size_bytes", "used")
    )
    total = sum(size for _, _, size, _ in entries)
    dropped = 0
    for pk, name, size, used in entries:
        if used >= oldest and total <= max_bytes:
            break
        if drop(pk, name):
            dropped += 1
            total -= size
    return dropped, total


def _fill_sizes(rows: QuerySet[ConformedRender] | QuerySet[PackExport]) -> None:
    """Rows made before sizes were recorded get theirs from the storage, once."""
    storage = rows.model.file.field.storage
    for pk, name in rows.filter(size_bytes=0).values_list("pk", "file"):
        try:
            size = storage.size(name)
        except OSError:  # the file is gone: the row is left for the pages to find out
            continue
        rows.model.objects.filter(pk=pk).update(size_bytes=size)


def _render_drop(pk: int, name: str) -> bool:
    deleted, _ = ConformedRender.objects.filter(pk=pk, status=ConformedRender.Status.DONE, file=name).delete()
    if deleted:
        ConformedRender.file.field.storage.delete(name)
    return bool(deleted)


def _export_drop(pk: int, name: str) -> bool:
    marked = PackExport.objects.filter(pk=pk, status=PackExport.Status.DONE, file=name).update(
        status=PackExport.Status.FAILED, error=EXPORT_EXPIRED, file="", size_bytes=0
    )
    if marked:
        PackExport.file.field.storage.delete(name)
    return bool(marked)
