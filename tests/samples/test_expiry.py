"""Issue 28.1: renders and pack ZIPs are not kept for ever (one session left 1.9 GB). Beat's expiry
deletes those unused past their max age, then the least recently used until under the budget;
playing or downloading a file keeps it; an expired ZIP's page says so and offers to build it again."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from samples.expiry import EXPIRE_FILES_TASK, EXPORT_EXPIRED, files_expire
from samples.models import ConformedRender, PackExport
from samples.packs import pack_create
from samples.tasks import files_expire_task
from tests.samples.factories import SoundFactory

pytestmark = pytest.mark.django_db


def _render(*, used_hours_ago: float, size: int = 100) -> ConformedRender:
    row = ConformedRender.objects.create(
        sound=SoundFactory(),
        source_bpm=Decimal("124"),
        target_bpm=Decimal("96"),
        semitones=0,
        status="done",
        finished_at=timezone.now() - timedelta(days=1),
        last_used_at=timezone.now() - timedelta(hours=used_hours_ago),
    )
    row.file.save(f"render-{row.pk}.wav", ContentFile(b"w" * size), save=False)
    ConformedRender.objects.filter(pk=row.pk).update(file=row.file.name, size_bytes=size)
    row.refresh_from_db()
    return row


def _export(user, *, used_days_ago: float, size: int = 100) -> PackExport:
    pack = pack_create(owner=user, name=f"Pack {PackExport.objects.count()}")
    export = PackExport.objects.create(
        pack=pack, signature="s", status="done", last_used_at=timezone.now() - timedelta(days=used_days_ago)
    )
    export.file.save(f"pack-{export.pk}.zip", ContentFile(b"z" * size), save=False)
    PackExport.objects.filter(pk=export.pk).update(file=export.file.name, size_bytes=size)
    export.refresh_from_db()
    return export


def test_expiry_deletes_the_least_recently_used_renders_first_and_keeps_the_total_under_budget(settings):
    settings.RENDERS_MAX_BYTES = 250
    rows = [_render(used_hours_ago=hours) for hours in (5, 40, 1, 20)]  # LRU order: 40, 20, 5, 1
    storage = ConformedRender.file.field.storage

    report = files_expire()

    assert set(ConformedRender.objects.values_list("pk", flat=True)) == {rows[0].pk, rows[2].pk}
    assert (report.renders, report.render_bytes) == (2, 200)
    assert [storage.exists(row.file.name) for row in rows] == [True, False, True, False]


def test_playing_a_render_keeps_it_and_an_old_unused_one_goes_even_under_budget(client, user, settings):
    settings.RENDERS_MAX_BYTES = 250
    settings.RENDERS_MAX_AGE_DAYS = 3
    stale = _render(used_hours_ago=24 * 4)  # past the max age, though the total is under budget
    played = _render(used_hours_ago=30)
    fresh = _render(used_hours_ago=10)
    newer = _render(used_hours_ago=2)
    client.force_login(user)
    assert client.get(reverse("samples:render_audio", args=[played.pk])).status_code == 200

    files_expire()

    remaining = set(ConformedRender.objects.values_list("pk", flat=True))
    assert remaining == {played.pk, newer.pk}  # played just now: the most recently used
    assert stale.pk not in remaining
    assert fresh.pk not in remaining


def test_an_expired_zip_says_so_and_asking_again_builds_a_new_one(
    client, user, settings, django_capture_on_commit_callbacks
):
    settings.EXPORTS_MAX_AGE_DAYS = 2
    old = _export(user, used_days_ago=3)
    recent = _export(user, used_days_ago=1)

    report = files_expire()

    old.refresh_from_db()
    assert report.exports == 1
    assert (old.status, old.error, old.file.name) == ("failed", EXPORT_EXPIRED, "")
    assert PackExport.objects.get(pk=recent.pk).status == "done"
    client.force_login(user)
    page = client.get(reverse("samples:export_detail", args=[old.pk])).content.decode()
    assert "deleted to save space" in page
    assert "Try again" in page
    api = APIClient()
    api.force_authenticate(user)
    answer = api.get(f"/api/v1/exports/{old.pk}/file/")
    assert answer.status_code == 409
    assert answer.json()["error"]["message"] == EXPORT_EXPIRED
    with django_capture_on_commit_callbacks():
        again = client.post(reverse("samples:pack_download", args=[old.pack_id]), {"contents": "originals"})
    assert again.status_code in (200, 302)


def test_downloading_a_zip_keeps_it_over_an_older_unused_one(client, user, settings):
    settings.EXPORTS_MAX_BYTES = 150
    downloaded = _export(user, used_days_ago=2)
    unused = _export(user, used_days_ago=1)
    client.force_login(user)
    assert client.get(reverse("samples:export_file", args=[downloaded.pk])).status_code == 200

    files_expire()

    assert PackExport.objects.get(pk=downloaded.pk).status == "done"
    assert PackExport.objects.get(pk=unused.pk).error == EXPORT_EXPIRED


def test_rows_made_before_sizes_were_recorded_are_measured_and_counted(settings):
    settings.RENDERS_MAX_BYTES = 150
    old, new = _render(used_hours_ago=9), _render(used_hours_ago=1)
    ConformedRender.objects.update(size_bytes=0)

    report = files_expire()

    assert list(ConformedRender.objects.values_list("pk", "size_bytes")) == [(new.pk, 100)]
    assert report.renders == 1
    assert not ConformedRender.file.field.storage.exists(old.file.name)


def test_beat_runs_the_expiry_on_the_sweeps_queue():
    (entry,) = [e for e in django_settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == EXPIRE_FILES_TASK]
    assert entry["schedule"] <= 60 * 60
    assert django_settings.CELERY_TASK_ROUTES[EXPIRE_FILES_TASK] == {"queue": django_settings.SWEEPS_QUEUE}
    files_expire_task.apply().get()
