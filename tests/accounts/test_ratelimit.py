"""Sign-in throttling: per username and per client address, and closed while the cache is down."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.conftest import free_port


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    cache.clear()  # the counts live in the (per-process) test cache


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", password="a-long-pass-123")


def sign_in(client, username: str, password: str):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_failures_under_many_usernames_are_limited_by_address(client, bob, settings):
    settings.LOGIN_RATE_LIMIT = 3
    for name in ("alice", "carol", "dave"):
        sign_in(client, name, "guess")

    assert sign_in(client, "bob", "a-long-pass-123").status_code == 429


def test_failures_below_the_limit_do_not_block(client, bob, settings):
    settings.LOGIN_RATE_LIMIT = 2
    sign_in(client, "bob", "wrong")

    assert sign_in(client, "bob", "a-long-pass-123").status_code == 302


def test_sign_in_waits_while_the_cache_is_down(client, bob, settings):
    # A Redis cache with no server behind it: throttling fails closed instead of answering 500.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }

    response = sign_in(client, "bob", "a-long-pass-123")

    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
