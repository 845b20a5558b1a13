"""Issue 28, point 6: the reset mail was sent inside the request, so an address with an account
took measurably longer to answer than one without. The request now does the same work for both
(it queues one task) and the I/O worker looks the address up and sends the mail."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.services import PASSWORD_RESET_TASK
from sevenfour_site.celery import app as celery_app

pytestmark = pytest.mark.django_db
RESET = reverse("accounts:password_reset")


@pytest.fixture
def queued(monkeypatch) -> list[tuple[str, tuple]]:
    """The tasks sent, not run: what the request itself does."""
    sent: list[tuple[str, tuple]] = []

    def send(name: str, *args: object, waiting: str) -> bool:
        sent.append((name, args))
        return True

    monkeypatch.setattr("accounts.services.task_send", send)
    return sent


def reset_request(client, email: str) -> tuple[int, list[str]]:
    cache.clear()  # each request starts from the same throttle state
    with CaptureQueriesContext(connection) as queries:
        response = client.post(RESET, {"email": email})
    assert response["Location"] == reverse("accounts:password_reset_done")
    return response.status_code, [q["sql"] for q in queries]


def test_the_request_does_the_same_work_for_a_known_and_an_unknown_address(client, user, queued):
    known = reset_request(client, user.email)
    unknown = reset_request(client, "nobody@example.com")

    assert known == unknown  # same answer, same queries (none on the users)
    assert not any("accounts_user" in sql for sql in known[1])
    assert mail.outbox == []  # nothing is sent inside the request
    assert queued == [
        (PASSWORD_RESET_TASK, (user.email, "testserver", False)),
        (PASSWORD_RESET_TASK, ("nobody@example.com", "testserver", False)),
    ]


def test_the_worker_mails_the_link_to_the_account_and_nothing_for_an_unknown_address(user):
    task = celery_app.tasks[PASSWORD_RESET_TASK]

    task.apply(args=("nobody@example.com", "sevenfour.example", True), throw=True)
    task.apply(args=(user.email.upper(), "sevenfour.example", True), throw=True)

    (message,) = mail.outbox
    assert message.to == [user.email]
    assert "https://sevenfour.example/accounts/password/reset/" in str(message.body)
