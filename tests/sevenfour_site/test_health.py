from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import broker_configured, free_port, running_worker

pytestmark = pytest.mark.django_db(transaction=True)


def test_healthz_is_public_and_reports_every_check(client, filesystem_broker):
    response = client.get(reverse("healthz"))
    body = response.json()
    assert set(body["checks"]) == {"database", "broker", "workers", "model"}
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True


def test_healthz_is_503_without_a_worker(client, filesystem_broker):
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["checks"]["workers"] == {"ok": False, "detail": "no worker answered the ping"}


def test_healthz_is_200_with_a_live_worker(client, redis_broker):
    with running_worker():
        response = client.get(reverse("healthz"))
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ok"
    assert response.json()["checks"]["workers"]["ok"] is True
    # This in-thread worker loads no model (only `celery worker` processes on the ml queue do), and
    # the model check only informs: the site still answers 200.
    assert response.json()["checks"]["model"] == {"ok": False, "detail": "no ML worker answered"}


def test_healthz_is_503_with_the_reason_when_the_broker_is_unreachable(client):
    with broker_configured(f"redis://127.0.0.1:{free_port()}/0"):
        response = client.get(reverse("healthz"))
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["detail"].startswith("broker unreachable")
    assert body["checks"]["workers"] == {"ok": False, "detail": "broker unreachable"}
