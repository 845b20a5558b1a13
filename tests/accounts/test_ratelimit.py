"""The throttle policy (accounts/ratelimit.py): sign-in without attacker-triggered lockouts, the
admin's sign-in, sign-up, password change and reset, web pages sharing the API's allowances, the
client address behind a trusted proxy, and a cache outage."""

from __future__ import annotations

import re
import time

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import ratelimit
from core.ratelimit import LOCAL_CACHE
from tests.conftest import free_port

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-pass-123"
WRONG_PASSWORD_ERROR = "Please enter a correct username and password"


@pytest.fixture(autouse=True)
def _clean_counts() -> None:
    cache.clear()  # the counts live in the (per-process) test cache
    LOCAL_CACHE.clear()


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", email="bob@example.com", password=PASSWORD)


def client_at(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def sign_in(client, username: str, password: str, url: str = "/accounts/login/"):
    return client.post(url, {"username": username, "password": password})


def error_blocks(response) -> list[str]:
    return re.findall(r'class="message message-error"|class="errornote"', response.content.decode())


# --- Sign-in --------------------------------------------------------------------------------------


def test_a_flood_of_wrong_passwords_from_one_address_does_not_lock_the_owner_out(bob, settings):
    settings.LOGIN_RATE_LIMIT = 5
    settings.LOGIN_USERNAME_FREE = 100  # the per-username slowdown is the next test's subject
    attacker, owner = client_at("198.51.100.66"), client_at("203.0.113.10")
    statuses = [sign_in(attacker, "bob", f"guess-{i}").status_code for i in range(12)]

    assert statuses == [200] * 5 + [429] * 7  # the attacker waits...
    assert sign_in(owner, "bob", PASSWORD).status_code == 302  # ...the owner does not


def test_many_failures_for_one_username_only_slow_it_down_and_a_known_browser_skips_even_that(bob, settings):
    settings.LOGIN_USERNAME_FREE = 3
    settings.LOGIN_USERNAME_MAX_DELAY = 1
    owner_laptop = client_at("203.0.113.10")
    assert sign_in(owner_laptop, "bob", PASSWORD).status_code == 302  # a browser bob used before
    owner_laptop.post(reverse("accounts:logout"))
    for i in range(4):  # a botnet: every guess from another address
        sign_in(client_at(f"198.51.100.{i}"), "bob", f"guess-{i}")

    new_phone = client_at("203.0.113.11")
    slowed = sign_in(new_phone, "bob", PASSWORD)
    assert slowed.status_code == 429
    assert "each try waits a moment" in slowed.content.decode()
    assert sign_in(owner_laptop, "bob", PASSWORD).status_code == 302  # known browser: no delay

    time.sleep(1.1)  # the per-username delay (LOGIN_USERNAME_MAX_DELAY) has passed
    assert sign_in(new_phone, "bob", PASSWORD).status_code == 302


def test_a_refused_sign_in_shows_one_message_and_does_not_check_the_password(bob, settings):
    settings.LOGIN_RATE_LIMIT = 2
    attacker = client_at("198.51.100.66")
    for _ in range(2):
        wrong = sign_in(attacker, "bob", "nope")
    assert WRONG_PASSWORD_ERROR in wrong.content.decode()
    assert len(error_blocks(wrong)) == 1

    refused = sign_in(attacker, "bob", PASSWORD)  # even the right password is not checked now

    page = refused.content.decode()
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "Too many failed sign-ins for this account from your network" in page
    assert WRONG_PASSWORD_ERROR not in page
    assert len(error_blocks(refused)) == 1
    assert "_auth_user_id" not in attacker.session


def test_failures_under_many_usernames_are_limited_by_address(bob, settings):
    settings.LOGIN_ADDRESS_LIMIT = 3
    client = client_at("198.51.100.66")
    for name in ("alice", "carol", "dave"):
        sign_in(client, name, "guess")

    refused = sign_in(client, "bob", PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed sign-ins from your network" in refused.content.decode()


def test_behind_a_trusted_proxy_each_client_is_counted_by_its_own_address(bob, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_ADDRESS_LIMIT = 3
    proxy = "10.0.0.2"  # every request arrives from the proxy
    attacker = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.66")
    owner = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.10")
    for name in ("alice", "carol", "dave"):
        sign_in(attacker, name, "guess")

    assert sign_in(attacker, "bob", PASSWORD).status_code == 429
    assert sign_in(owner, "bob", PASSWORD).status_code == 302


def test_the_admin_login_is_behind_the_same_throttle(django_user_model, settings):
    settings.LOGIN_RATE_LIMIT = 5
    django_user_model.objects.create_superuser("root", password=PASSWORD)
    attacker = client_at("198.51.100.66")
    statuses = [sign_in(attacker, "root", f"guess-{i}", url="/admin/login/").status_code for i in range(25)]

    assert statuses == [200] * 5 + [429] * 20
    refused = sign_in(attacker, "root", PASSWORD, url="/admin/login/")
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.content.decode()
    # The site's sign-in page counts the same failures.
    assert sign_in(attacker, "root", PASSWORD).status_code == 429

    staff = client_at("203.0.113.10")
    response = staff.post(
        "/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302
    assert staff.get("/admin/").status_code == 200


def test_the_admin_login_still_refuses_non_staff(bob):
    response = sign_in(client_at("203.0.113.10"), "bob", PASSWORD, url="/admin/login/")
    assert response.status_code == 200
    assert "staff account" in response.content.decode()


def test_with_the_cache_down_the_right_password_works_and_guessing_is_still_throttled(bob, settings):
    # A Redis cache with nothing listening: counts fall back to this process's memory.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    settings.LOGIN_RATE_LIMIT = 3
    assert sign_in(client_at("203.0.113.10"), "bob", PASSWORD).status_code == 302

    attacker = client_at("198.51.100.66")
    statuses = [sign_in(attacker, "bob", f"guess-{i}").status_code for i in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


# --- Sign-up, password change, password reset -----------------------------------------------------


def test_sign_up_is_limited_per_address_with_one_message(settings, django_user_model):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": "2/hour"}
    client = client_at("198.51.100.66")
    statuses = []
    for i in range(3):
        response = client.post(
            reverse("accounts:signup"),
            {"username": f"bot{i}", "password1": "tempo-and-key-42", "password2": "tempo-and-key-42"},
        )
        statuses.append(response.status_code)
        client.post(reverse("accounts:logout"))

    assert statuses == [302, 302, 429]
    assert "Too many accounts were created from your network" in response.content.decode()
    assert len(error_blocks(response)) == 1
    assert django_user_model.objects.count() == 2


def test_password_change_is_limited_per_user(bob, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "password_change": "2/hour"}
    client = client_at("203.0.113.10")
    client.force_login(bob)
    wrong = {
        "old_password": "guess",
        "new_password1": "new-long-pass-456",
        "new_password2": "new-long-pass-456",
    }
    statuses = [client.post(reverse("accounts:password_change"), wrong).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_password_reset_by_email_sets_a_new_password(bob, client):
    response = client.post(reverse("accounts:password_reset"), {"email": "bob@example.com"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    (message,) = mail.outbox
    assert message.to == ["bob@example.com"]
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+/)", str(message.body)).group(1)

    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "fresh-tempo-789", "new_password2": "fresh-tempo-789"},
    )
    assert done["Location"] == reverse("accounts:password_reset_complete")
    bob.refresh_from_db()
    assert bob.check_password("fresh-tempo-789")
    assert "expired or was already used" in client.get(link, follow=True).content.decode()


def test_password_reset_says_the_same_for_an_unknown_address_and_sends_nothing(bob, client):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mail.outbox == []


def test_password_reset_is_limited_per_email_address_across_clients(bob, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "password_reset_email": "2/hour"}
    statuses = [
        client_at(f"198.51.100.{i}")
        .post(reverse("accounts:password_reset"), {"email": "Bob@example.com"})
        .status_code
        for i in range(3)
    ]
    assert statuses == [302, 302, 429]
    assert len(mail.outbox) == 2


# --- One policy for pages and the API -------------------------------------------------------------


@pytest.mark.usefixtures("catalog_settings")
def test_picks_on_the_page_spend_the_same_allowance_as_the_api(bob, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "predictions": "2/hour"}
    api = APIClient()
    api.force_authenticate(bob)
    page = client_at("203.0.113.10")
    page.force_login(bob)

    api_statuses = [
        api.post(
            "/api/v1/predictions/", {"provider": "deezer", "track_id": "3135556"}, format="json"
        ).status_code
        for _ in range(3)
    ]
    pick = page.post(reverse("predictions:create_from_pick"), {"provider": "deezer", "track_id": "3135556"})

    assert api_statuses == [202, 202, 429]
    assert pick.status_code == 429
    assert "You have done that too often" in pick.content.decode()
    assert int(pick["Retry-After"]) > 0
    assert bob.predictions.count() == 2


@pytest.mark.usefixtures("catalog_settings")
def test_catalog_pages_are_throttled_like_the_catalog_api(bob, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "catalog": "2/min"}
    page = client_at("203.0.113.10")
    page.force_login(bob)
    assert page.get(reverse("predictions:new")).status_code == 200  # the bare page spends nothing
    statuses = [
        page.get(reverse("predictions:new"), {"q": "daft", "provider": "deezer"}).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "1 second"),
        (1, "1 second"),
        (40, "40 seconds"),
        (89, "89 seconds"),
        (90, "2 minutes"),
        (3600, "60 minutes"),
    ],
)
def test_the_wait_is_said_in_words_with_the_right_plural(seconds, words):
    assert ratelimit.wait_phrase(seconds) == words
