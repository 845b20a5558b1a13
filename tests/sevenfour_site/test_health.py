"""/healthz (issue 18.5): a cheap public liveness answer; the report only for staff or a token."""

from __future__ import annotations

import threading

import pytest
from django.urls import reverse

from sevenfour_site import health
from tests.accounts.factories import UserFactory
from tests.conftest import broker_configured, free_port, running_worker

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "monitor-secret-0123456789"


@pytest.fixture(autouse=True)
def _fresh_report(settings):
    settings.HEALTHZ_TOKEN = TOKEN
    health.health_cache_clear()
    yield
    health.health_cache_clear()


@pytest.fixture
def monitor(client):
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return client


def test_the_public_answer_is_bare_and_touches_nothing(client, monkeypatch, django_assert_num_queries):
    def probe_forbidden(*args, **kwargs):
        raise AssertionError("a public /healthz must not probe the broker or the workers")

    monkeypatch.setattr(health, "health_report", probe_forbidden)
    with django_assert_num_queries(0):
        response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("authorization", ["", "Bearer wrong", f"Token {TOKEN}x", "Bearer "])
def test_a_wrong_or_missing_token_gets_the_public_answer(client, filesystem_broker, authorization):
    response = client.get(reverse("healthz"), HTTP_AUTHORIZATION=authorization)

    assert response.json() == {"status": "ok"}


def test_an_empty_configured_token_opens_nothing(client, settings):
    settings.HEALTHZ_TOKEN = ""

    assert client.get(reverse("healthz"), HTTP_AUTHORIZATION="Bearer ").json() == {"status": "ok"}


def test_staff_get_the_report(client, filesystem_broker):
    client.force_login(UserFactory(username="staff", is_staff=True))

    body = client.get(reverse("healthz")).json()

    assert set(body["checks"]) == {"database", "broker", "workers", "model"}


def test_the_monitor_gets_every_check(monitor, filesystem_broker):
    body = monitor.get(reverse("healthz")).json()

    assert set(body["checks"]) == {"database", "broker", "workers", "model"}
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True


def test_the_report_is_503_without_a_worker(monitor, filesystem_broker):
    response = monitor.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.json()["checks"]["workers"] == {"ok": False, "detail": "no worker answered the ping"}


def test_the_report_is_200_with_a_live_worker(monitor, redis_broker):
    with running_worker():
        response = monitor.get(reverse("healthz"))

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ok"
    assert response.json()["checks"]["workers"]["ok"] is True
    # This in-thread worker loads no model (only `celery worker` processes on the ml queue do), and
    # the model check only informs: the site still answers 200.
    assert response.json()["checks"]["model"] == {"ok": False, "detail": "no ML worker answered"}


def test_the_report_is_503_with_the_reason_when_the_broker_is_unreachable(monitor):
    with broker_configured(f"redis://127.0.0.1:{free_port()}/0"):
        response = monitor.get(reverse("healthz"))

    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["broker"]["detail"].startswith("broker unreachable")
    assert body["checks"]["workers"] == {"ok": False, "detail": "broker unreachable"}


def test_many_clients_at_once_share_one_probe(monitor, monkeypatch, settings):
    settings.HEALTHZ_CACHE_SECONDS = 60
    calls = []
    started = threading.Event()

    def slow_report():
        calls.append(1)
        started.wait(0.3)
        return True, {"database": {"ok": True, "detail": "sqlite"}}

    monkeypatch.setattr(health, "health_report", slow_report)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(health.health_report_cached())) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 8
    assert len(calls) == 1


def test_the_cached_report_expires(monkeypatch, settings):
    settings.HEALTHZ_CACHE_SECONDS = 5
    now = [100.0]
    calls = []

    def counted_report() -> health.Report:
        calls.append(1)
        return True, {}

    monkeypatch.setattr(health, "health_report", counted_report)

    health.health_report_cached(clock=lambda: now[0])
    now[0] += 4
    health.health_report_cached(clock=lambda: now[0])
    now[0] += 2
    health.health_report_cached(clock=lambda: now[0])

    assert len(calls) == 2
