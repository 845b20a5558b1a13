"""Fixtures for the API tests: a client authenticated with a personal token, and the fake
Freesound catalogue from the samples tests (recommendations and pack ZIPs need it)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.services import api_token_create
from tests.samples.conftest import _freesound_catalogue_server, clock, fs, genres  # noqa: F401


@pytest.fixture(autouse=True)
def _fresh_throttle_histories() -> None:
    """Throttle histories live in the cache and are keyed by user id, which transactional tests
    hand out again: without this, earlier tests' requests count against a later test's user."""
    cache.clear()


@pytest.fixture
def token(user) -> str:
    _, secret = api_token_create(user=user, name="tests")
    return secret


@pytest.fixture
def api(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


@pytest.fixture
def rates(settings):
    """Set the per-user rates (web and API) for one test: rates(predictions="1/hour")."""

    def set_rates(**scopes: str) -> None:
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, **scopes}
        cache.clear()  # throttle histories live in the cache

    return set_rates


def assert_error(response, status: int, code: str) -> dict:
    """The response has the API's error shape with this status and code; returns the error."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert set(error) == {"code", "message", "field_errors"}
    return error
