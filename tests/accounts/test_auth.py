from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_signup_creates_user_and_signs_in(client, django_user_model):
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "ada",
            "email": "ada@example.com",
            "password1": "a-long-pass-123",
            "password2": "a-long-pass-123",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert django_user_model.objects.filter(username="ada").exists()
    assert client.get(reverse("home")).status_code == 200


def test_signup_shows_errors_for_mismatched_passwords(client, django_user_model):
    response = client.post(
        reverse("accounts:signup"),
        {"username": "ada", "password1": "a-long-pass-123", "password2": "another-pass-456"},
    )
    assert response.status_code == 200
    assert "didn’t match" in response.content.decode()
    assert not django_user_model.objects.exists()


def test_login_and_logout(client, django_user_model):
    django_user_model.objects.create_user("bob", password="a-long-pass-123")
    response = client.post(reverse("accounts:login"), {"username": "bob", "password": "a-long-pass-123"})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200

    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_login_with_wrong_password_stays_on_the_form(client, django_user_model):
    django_user_model.objects.create_user("bob", password="a-long-pass-123")
    response = client.post(reverse("accounts:login"), {"username": "bob", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_login_is_rate_limited_after_repeated_failures(client, django_user_model, settings):
    settings.LOGIN_RATE_LIMIT = 3
    django_user_model.objects.create_user("bob", password="a-long-pass-123")
    for _ in range(3):
        client.post(reverse("accounts:login"), {"username": "bob", "password": "wrong"})
    response = client.post(reverse("accounts:login"), {"username": "bob", "password": "a-long-pass-123"})
    assert response.status_code == 429
    assert "Too many failed sign-ins for this account from your network" in response.content.decode()


@pytest.mark.parametrize("url_name", ["home", "predictions:history", "accounts:password_change"])
def test_anonymous_users_are_sent_to_the_login_page(client, url_name):
    url = reverse(url_name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"


@pytest.mark.parametrize(
    "url_name",
    [
        "landing",
        "accounts:login",
        "accounts:signup",
        "accounts:password_reset",
        "accounts:password_reset_done",
    ],
)
def test_public_pages_need_no_login(client, url_name):
    assert client.get(reverse(url_name)).status_code == 200


def test_password_change(client, django_user_model):
    user = django_user_model.objects.create_user("carol", password="a-long-pass-123")
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": "a-long-pass-123",
            "new_password1": "new-long-pass-456",
            "new_password2": "new-long-pass-456",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("new-long-pass-456")


@pytest.mark.parametrize("typed", ["ada@example.com", "ADA@Example.COM"])
def test_signup_refuses_an_email_already_in_use_whatever_its_case(client, django_user_model, typed):
    # Issue 28, point 6: sign-up accepted an address an account already had.
    django_user_model.objects.create_user("ada", email="ada@example.com", password="a-long-pass-123")

    response = client.post(
        reverse("accounts:signup"),
        {"username": "ada2", "email": typed, "password1": "a-long-pass-123", "password2": "a-long-pass-123"},
    )

    assert response.status_code == 200
    assert "An account already uses this e-mail address" in response.content.decode()
    assert not django_user_model.objects.filter(username="ada2").exists()


def test_signup_without_an_email_is_still_accepted_beside_others_without_one(client, django_user_model):
    django_user_model.objects.create_user("ada", password="a-long-pass-123")

    response = client.post(
        reverse("accounts:signup"),
        {"username": "bea", "email": "", "password1": "a-long-pass-123", "password2": "a-long-pass-123"},
    )

    assert response.status_code == 302
