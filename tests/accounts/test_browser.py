from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_up_sign_out_sign_in_and_see_home(page):
    page.goto("/")
    page.get_by_role("link", name="Create a free account").click()
    page.get_by_label("Username").fill("melody")
    page.get_by_label("Email address").fill("melody@example.com")
    page.get_by_label("Password", exact=True).fill("tempo-and-key-42")
    page.get_by_label("Password confirmation").fill("tempo-and-key-42")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/home/")
    assert page.get_by_role("heading", name="Hi melody").is_visible()

    page.get_by_text("melody", exact=True).click()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Heard a song? Get samples that fit it.").wait_for()
    assert page.get_by_role("link", name="Sign in").first.is_visible()

    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label("Username").fill("melody")
    page.get_by_label("Password").fill("tempo-and-key-42")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/home/")
    assert page.get_by_role("heading", name="Hi melody").is_visible()
    assert page.get_by_text("No predictions yet").is_visible()
