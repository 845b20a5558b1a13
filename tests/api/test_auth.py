"""Personal API tokens: the pages that create and revoke them, and authentication with them."""

from __future__ import annotations

import hashlib

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import api_token_create
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db

GENRES = "/api/v1/genres/"


def test_token_page_needs_login(client):
    response = client.get(reverse("accounts:token_list"))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_creating_a_token_shows_its_secret_once_and_stores_only_its_hash(client, user):
    client.force_login(user)

    created = client.post(reverse("accounts:token_list"), {"name": "laptop script"})
    listed = client.get(reverse("accounts:token_list"))

    token = ApiToken.objects.get(user=user)
    secret = created.context["secret"]
    assert secret in created.text
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in listed.text
    assert token.prefix in listed.text
    assert "laptop script" in listed.text


def test_a_token_without_a_name_is_refused_with_the_field_error(client, user):
    client.force_login(user)

    response = client.post(reverse("accounts:token_list"), {"name": "  "})

    assert response.status_code == 200
    assert "This field is required." in response.text
    assert not ApiToken.objects.exists()


def test_revoking_asks_first_then_deletes_the_token(client, user):
    token, _ = api_token_create(user=user, name="old")
    client.force_login(user)
    url = reverse("accounts:token_revoke", args=[token.pk])

    confirm = client.get(url)
    revoked = client.post(url)

    assert "Revoke this token?" in confirm.text
    assert revoked.status_code == 302
    assert not ApiToken.objects.filter(pk=token.pk).exists()


def test_other_users_tokens_cannot_be_revoked(client, user, other_user):
    token, _ = api_token_create(user=other_user, name="bob's")
    client.force_login(user)

    response = client.post(reverse("accounts:token_revoke", args=[token.pk]))

    assert response.status_code == 404
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_the_user_menu_links_to_the_token_page(client, user):
    client.force_login(user)

    assert reverse("accounts:token_list") in client.get(reverse("home")).text


def test_a_token_authenticates_and_records_when_it_was_used(user, api):
    response = api.get(GENRES)

    assert response.status_code == 200
    assert ApiToken.objects.get(user=user).last_used_at is not None


def test_without_credentials_the_api_answers_401_json_not_a_login_redirect(anonymous):
    response = anonymous.get(GENRES)

    error = assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"
    assert "credentials" in error["message"].lower()


def test_a_revoked_or_unknown_token_is_401(user, token):
    ApiToken.objects.filter(user=user).delete()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    error = assert_error(client.get(GENRES), 401, "authentication_failed")
    assert "/accounts/tokens/" in error["message"]


def test_a_malformed_authorization_header_is_401(anonymous):
    anonymous.credentials(HTTP_AUTHORIZATION="Token two parts")

    assert_error(anonymous.get(GENRES), 401, "authentication_failed")


def test_a_browser_session_authenticates_too(client, user):
    client.force_login(user)

    assert client.get(GENRES).status_code == 200


def test_session_writes_need_the_csrf_token(user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post("/api/v1/packs/", {"name": "Drums"}, format="json")

    assert_error(response, 403, "permission_denied")
