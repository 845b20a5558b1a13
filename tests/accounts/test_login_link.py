"""Issue 28, low item: one wrong sign-in about every 10 s from rotating addresses kept the owner
out on a new browser. While an account is under attack, the sign-in page offers a browser it does
not know an e-mailed sign-in link: single-use, short-lived, and asked for without telling whether
the account exists."""

from __future__ import annotations

import re
import time

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import ratelimit
from accounts.services import LOGIN_LINK_TASK, login_link_token
from core.ratelimit import LOCAL_CACHE

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-pass-123"
LOGIN = "/accounts/login/"
OFFER = "E-mail me a sign-in link"


@pytest.fixture(autouse=True)
def _clean_counts(settings) -> None:
    cache.clear()
    LOCAL_CACHE.clear()
    settings.LOGIN_USERNAME_FREE = 3
    settings.LOGIN_USERNAME_MAX_DELAY = 60


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", email="bob@example.com", password=PASSWORD)


def client_at(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def attack(username: str = "bob", times: int = 8) -> None:
    """Wrong passwords from a botnet, each from another address, as if each came just after the
    slowdown the one before started (the page refuses, uncounted, those sent during it)."""
    for i in range(times):
        ratelimit.login_failed(RequestFactory().post(LOGIN, REMOTE_ADDR=f"198.51.100.{i}"), username)


def link_in(message) -> str:
    return re.search(r"http://testserver(/accounts/login/link/\S+/)", str(message.body)).group(1)


def test_under_attack_a_new_browser_is_refused_the_password_but_gets_in_with_the_link(bob, sent_tasks):
    attack()
    new_phone = client_at("203.0.113.11")

    refused = new_phone.post(LOGIN, {"username": "bob", "password": PASSWORD})

    assert refused.status_code == 429
    assert "_auth_user_id" not in new_phone.session
    assert OFFER in refused.content.decode()
    asked = new_phone.post(reverse("accounts:login_link"), {"username": "bob"})
    assert asked["Location"] == reverse("accounts:login_link_sent")
    assert sent_tasks == [(LOGIN_LINK_TASK, ("bob", "testserver", False))]
    (message,) = mail.outbox
    assert message.to == ["bob@example.com"]
    link = link_in(message)

    shown = new_phone.get(link)  # what a mail scanner may open: it uses nothing up
    assert shown.status_code == 200
    assert "Sign in as bob" in shown.content.decode()
    signed_in = new_phone.post(link)

    assert signed_in["Location"] == reverse("home")
    assert int(new_phone.session["_auth_user_id"]) == bob.pk
    # The browser is known now: after signing out, the password works at once despite the attack.
    new_phone.post(reverse("accounts:logout"))
    attack()
    assert new_phone.post(LOGIN, {"username": "bob", "password": PASSWORD}).status_code == 302


def test_the_link_works_once(bob, sent_tasks):
    link = reverse("accounts:login_link_confirm", args=[login_link_token(user=bob)])
    assert client_at("203.0.113.11").post(link).status_code == 302

    again = client_at("203.0.113.12")
    response = again.post(link)

    assert response.status_code == 400
    assert "This sign-in link no longer works" in response.content.decode()
    assert "_auth_user_id" not in again.session
    assert client_at("203.0.113.13").get(link).status_code == 400


def test_an_expired_link_is_refused(bob, monkeypatch, settings):
    made_at = time.time() - settings.LOGIN_LINK_MAX_AGE - 1
    with monkeypatch.context() as past:  # the token's timestamp is django.core.signing's clock
        past.setattr("django.core.signing.time.time", lambda: made_at)
        link = reverse("accounts:login_link_confirm", args=[login_link_token(user=bob)])
    browser = client_at("203.0.113.11")

    assert browser.post(link).status_code == 400
    assert "_auth_user_id" not in browser.session


def test_a_tampered_link_or_one_from_before_a_new_password_is_refused(bob):
    token = login_link_token(user=bob)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert (
        client_at("203.0.113.11").post(reverse("accounts:login_link_confirm", args=[forged])).status_code
        == 400
    )

    bob.set_password("another-long-pass-456")
    bob.save()
    link = reverse("accounts:login_link_confirm", args=[token])
    assert client_at("203.0.113.11").post(link).status_code == 400


def test_asking_for_a_link_answers_and_works_the_same_whether_or_not_the_account_exists(bob, monkeypatch):
    queued: list[tuple[str, tuple]] = []

    def send(name: str, *args: object, waiting: str) -> bool:
        queued.append((name, args))
        return True

    monkeypatch.setattr("accounts.services.task_send", send)

    answers = []
    for username in ("bob", "nobody"):
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            response = client_at("203.0.113.11").post(reverse("accounts:login_link"), {"username": username})
        answers.append((response.status_code, response["Location"], len(queries)))

    assert answers[0] == answers[1]
    assert [name for name, _ in queued] == [LOGIN_LINK_TASK, LOGIN_LINK_TASK]
    assert mail.outbox == []  # nothing is looked up or sent inside the request


def test_the_worker_mails_nothing_for_an_unknown_name(bob, sent_tasks):
    client_at("203.0.113.11").post(reverse("accounts:login_link"), {"username": "nobody"})
    assert len(sent_tasks) == 1
    assert mail.outbox == []


def test_no_link_is_offered_without_an_attack_or_to_a_known_browser(bob):
    laptop = client_at("203.0.113.10")
    assert laptop.post(LOGIN, {"username": "bob", "password": PASSWORD}).status_code == 302
    laptop.post(reverse("accounts:logout"))
    wrong = client_at("203.0.113.11").post(LOGIN, {"username": "bob", "password": "nope"})
    assert OFFER not in wrong.content.decode()  # one failure is no attack

    attack()

    assert OFFER not in laptop.post(LOGIN, {"username": "bob", "password": "typo"}).content.decode()
    assert (
        OFFER in client_at("203.0.113.11").post(LOGIN, {"username": "bob", "password": "x"}).content.decode()
    )


def test_link_requests_are_limited_per_username(bob, settings, sent_tasks):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_link_username": "2/hour"}
    statuses = [
        client_at(f"198.51.100.{i}").post(reverse("accounts:login_link"), {"username": "bob"}).status_code
        for i in range(3)
    ]
    assert statuses == [302, 302, 429]
    assert len(mail.outbox) == 2
