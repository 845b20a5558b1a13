"""Pack ZIP exports as jobs: a broker outage, a dead worker, a duplicate message and a database
error never leave an export stuck, and asking again never returns a stuck one for ever."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from celery.exceptions import Retry
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from samples import exports
from samples.models import PackExport
from samples.tasks import pack_export_build_task, pack_export_sweep_task
from tests.conftest import broker_configured, free_port

Status = PackExport.Status


def _silent_since(settings) -> datetime:
    return timezone.now() - timedelta(seconds=settings.PREDICTION_HEARTBEAT_TIMEOUT + 1)


def test_with_the_broker_down_asking_for_a_zip_is_no_500_and_asking_again_sends_it(
    client, user, pack_of, settings, filesystem_broker, django_capture_on_commit_callbacks
):
    settings.PACK_ZIP_STREAM_MAX_ITEMS = 1
    pack = pack_of(2)
    client.force_login(user)
    with (
        broker_configured(f"redis://127.0.0.1:{free_port()}/0"),  # a Redis nobody listens on
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(reverse("samples:pack_download", args=[pack.pk]))
    assert response.status_code == 302
    export = PackExport.objects.get(pack=pack)
    assert (export.status, export.queued_at) == (Status.PENDING, None)

    # The broker is back (the fixture's filesystem broker): asking again sends the same export.
    again = client.post(reverse("samples:pack_download", args=[pack.pk]))
    assert again["Location"] == reverse("samples:export_detail", args=[export.pk])
    export.refresh_from_db()
    assert export.queued_at is not None
    assert len(list((filesystem_broker / "queue").iterdir())) == 1


def test_an_export_whose_worker_died_is_sent_again_when_asked_for_and_then_finishes(
    user, pack_of, settings, filesystem_broker
):
    pack = pack_of(2)
    export = exports.pack_export_request(pack=pack)
    PackExport.objects.filter(pk=export.pk).update(
        status=Status.RUNNING, job_id="job-dead", attempts=1, started_at=_silent_since(settings),
        heartbeat_at=_silent_since(settings),
    )  # fmt: skip

    assert exports.pack_export_request(pack=pack) == export
    export.refresh_from_db()
    assert (export.status, export.job_id) == (Status.PENDING, "")
    assert len(list((filesystem_broker / "queue").iterdir())) == 1

    pack_export_build_task.apply(args=(export.pk,), task_id="job-new")
    export.refresh_from_db()
    assert (export.status, export.attempts) == (Status.DONE, 2)
    assert export.file


def test_an_export_that_lost_its_worker_too_often_fails_and_asking_again_starts_a_new_one(
    user, pack_of, settings, filesystem_broker
):
    pack = pack_of(2)
    export = exports.pack_export_request(pack=pack)
    PackExport.objects.filter(pk=export.pk).update(
        status=Status.RUNNING, job_id="job-dead", attempts=settings.PREDICTION_MAX_ATTEMPTS,
        started_at=_silent_since(settings), heartbeat_at=_silent_since(settings),
    )  # fmt: skip

    fresh = exports.pack_export_request(pack=pack)

    export.refresh_from_db()
    assert (export.status, export.error) == (Status.FAILED, exports.EXPORT_WORKER_LOST)
    assert fresh != export
    assert fresh.status == Status.PENDING


def test_the_sweep_task_sends_again_lost_messages_and_recovers_dead_workers_jobs(
    user, pack_of, settings, filesystem_broker
):
    old = timezone.now() - timedelta(seconds=settings.PREDICTION_REQUEUE_AFTER + 1)
    lost = exports.pack_export_request(pack=pack_of(1, name="Lost"))
    orphan = exports.pack_export_request(pack=pack_of(1, name="Orphan"))
    alive = exports.pack_export_request(pack=pack_of(1, name="Alive"))
    PackExport.objects.filter(pk=lost.pk).update(created_at=old)
    PackExport.objects.filter(pk=orphan.pk).update(
        status=Status.RUNNING, job_id="a", started_at=old, heartbeat_at=_silent_since(settings)
    )
    PackExport.objects.filter(pk=alive.pk).update(
        status=Status.RUNNING, job_id="b", started_at=old, heartbeat_at=timezone.now()
    )

    pack_export_sweep_task.apply()

    statuses = dict(PackExport.objects.values_list("pk", "status"))
    assert statuses == {lost.pk: Status.PENDING, orphan.pk: Status.PENDING, alive.pk: Status.RUNNING}
    assert PackExport.objects.get(pk=lost.pk).queued_at is not None
    assert PackExport.objects.get(pk=orphan.pk).queued_at is not None
    assert len(list((filesystem_broker / "queue").iterdir())) == 2


def test_the_same_message_delivered_twice_builds_the_zip_once(user, pack_of, monkeypatch):
    export = exports.pack_export_request(pack=pack_of(2))
    builds: list[int] = []
    original = exports.pack_zip_write

    def write_while_a_duplicate_arrives(**kwargs):
        builds.append(1)
        pack_export_build_task.apply(args=(export.pk,), task_id="job-a")  # same task id, mid-build
        return original(**kwargs)

    monkeypatch.setattr(exports, "pack_zip_write", write_while_a_duplicate_arrives)

    pack_export_build_task.apply(args=(export.pk,), task_id="job-a")

    export.refresh_from_db()
    assert (export.status, export.attempts, builds) == (Status.DONE, 1, [1])


@pytest.mark.django_db(transaction=True)
def test_a_database_outage_mid_build_is_retried_not_failed(user, pack_of, monkeypatch, settings):
    export = exports.pack_export_request(pack=pack_of(2))
    saved = dict(connection.settings_dict)
    original = exports.pack_zip_write

    def lose_the_database(**kwargs):
        connection.close()
        if connection.vendor == "sqlite":
            connection.settings_dict["NAME"] = "/nonexistent-dir/down.sqlite3"
        else:
            connection.settings_dict.update(HOST="127.0.0.1", PORT=str(free_port()))
        return original(**kwargs)

    monkeypatch.setattr(exports, "pack_zip_write", lose_the_database)
    retried: list[int] = []

    def fake_retry(**kwargs):
        retried.append(kwargs["countdown"])
        return Retry("scheduled", when=kwargs["countdown"])

    monkeypatch.setattr(pack_export_build_task, "retry", fake_retry)
    try:
        pack_export_build_task.apply(args=(export.pk,), task_id="job-db")
    finally:
        connection.close()
        connection.settings_dict.update(saved)

    assert retried == [settings.PREDICTION_HEARTBEAT_TIMEOUT + 1]
    export.refresh_from_db()
    assert export.status == Status.RUNNING  # held, not failed: the retry or the sweep finishes it
