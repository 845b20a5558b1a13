"""A real Celery round trip: publish → broker → worker → database, through each broker we support."""

from __future__ import annotations

import uuid

import pytest

from core.models import Heartbeat
from core.tasks import ping_db_task
from tests.conftest import running_worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def _round_trip() -> None:
    marker = uuid.uuid4().hex
    with running_worker():
        ping_db_task.delay(marker)
        landed = wait_until(lambda: Heartbeat.objects.filter(marker=marker).exists(), timeout=30)
    assert landed, "the task's row never reached the database"


def test_round_trip_through_redis(redis_broker):
    _round_trip()


def test_round_trip_through_the_embedded_filesystem_transport(filesystem_broker):
    _round_trip()
    assert not any((filesystem_broker / "queue").iterdir()), "the message was not consumed"


def test_celery_is_configured_for_json_only():
    from sevenfour_site.celery import app

    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"
    assert app.conf.task_time_limit > app.conf.task_soft_time_limit > 0
