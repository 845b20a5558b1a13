"""Issue 28, point 5: API tokens outlived password changes and resets, and any number could be
created. A new password (the user's own change, a reset link, or the admin's) now revokes them,
and an account holds at most TOKENS_PER_USER."""

from __future__ import annotations

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import TOKENS_PER_USER, TokenLimitReached, api_token_create
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-pass-123"
NEW_PASSWORD = "fresh-tempo-789"
GENRES = "/api/v1/genres/"


@pytest.fixture(autouse=True)
def _clean_counts() -> None:
    cache.clear()  # the throttles count in the test cache


def api_status(secret: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client.get(GENRES).status_code


def test_changing_the_password_revokes_the_api_tokens_and_says_so(client, user):
    _, secret = api_token_create(user=user, name="stolen with the old password")
    assert api_status(secret) == 200
    client.force_login(user)

    form = client.get(reverse("accounts:password_change"))
    done = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )

    assert "also revokes your" in form.text
    assert "Your 1 API token was revoked with the old password" in done.text
    assert "Any API tokens you had were revoked" in done.text
    assert not ApiToken.objects.filter(user=user).exists()
    assert api_status(secret) == 401


def test_a_reset_link_revokes_the_api_tokens(client, user, other_user):
    _, secret = api_token_create(user=user, name="laptop")
    _, others = api_token_create(user=other_user, name="not touched")
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    link = reverse("accounts:password_reset_confirm", args=[uid, default_token_generator.make_token(user)])

    form_page = client.get(link, follow=True)
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )

    assert "also revokes your API tokens" in form_page.text
    assert "Any API tokens you had were revoked" in done.text
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert api_status(secret) == 401
    assert api_status(others) == 200


def test_a_password_the_admin_sets_revokes_the_users_tokens(client, user):
    _, secret = api_token_create(user=user, name="laptop")
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    response = client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert api_status(secret) == 401


def test_a_wrong_old_password_revokes_nothing(client, user):
    _, secret = api_token_create(user=user, name="laptop")
    client.force_login(user)

    client.post(
        reverse("accounts:password_change"),
        {"old_password": "not-it", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert api_status(secret) == 200


def test_an_account_holds_at_most_the_cap_of_tokens(user):
    for i in range(TOKENS_PER_USER):
        api_token_create(user=user, name=f"script {i}")

    with pytest.raises(TokenLimitReached, match=f"already have {TOKENS_PER_USER} tokens"):
        api_token_create(user=user, name="one more")

    assert ApiToken.objects.filter(user=user).count() == TOKENS_PER_USER


def test_the_tokens_page_refuses_a_token_past_the_cap_with_a_clear_message(client, user):
    for i in range(TOKENS_PER_USER):
        api_token_create(user=user, name=f"script {i}")
    client.force_login(user)

    page = client.get(reverse("accounts:token_list"))
    refused = client.post(reverse("accounts:token_list"), {"name": "one more"})

    assert f"You have {TOKENS_PER_USER} tokens, the most an" in page.text
    assert "Create token" not in page.text
    assert refused.status_code == 409
    assert "Revoke one you no longer use" in refused.text
    assert ApiToken.objects.filter(user=user).count() == TOKENS_PER_USER


def test_revoking_one_makes_room_for_a_new_token(client, user):
    tokens = [api_token_create(user=user, name=f"script {i}")[0] for i in range(TOKENS_PER_USER)]
    client.force_login(user)

    client.post(reverse("accounts:token_revoke", args=[tokens[0].pk]))
    created = client.post(reverse("accounts:token_list"), {"name": "replacement"})

    assert created.status_code == 200
    assert "secret" in created.context
