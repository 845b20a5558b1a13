from __future__ import annotations

import pytest

from tests.conftest import no_horizontal_overflow

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


def test_password_reset_by_email_on_a_phone(chromium, live_server, django_user_model):
    import re

    from django.core import mail

    django_user_model.objects.create_user("melody", email="melody@example.com", password="old-tempo-42")
    context = chromium.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto("/accounts/login/")
        page.get_by_role("link", name="Forgot your password?").click()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.get_by_label("Email").fill("melody@example.com")
        page.get_by_role("button", name="Send the link").click()
        page.get_by_role("heading", name="Check your e-mail").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        link = re.search(r"https?://\S+/accounts/password/reset/\S+/", str(mail.outbox[-1].body)).group(0)
        page.goto(link)
        page.get_by_role("heading", name="Choose a new password").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.get_by_label("New password", exact=True).fill("new-tempo-and-key-7")
        page.get_by_label("New password confirmation").fill("new-tempo-and-key-7")
        page.get_by_role("button", name="Set the password").click()
        page.get_by_role("heading", name="Password changed").wait_for()
        page.get_by_role("link", name="Sign in").last.click()
        page.get_by_label("Username").fill("melody")
        page.get_by_label("Password").fill("new-tempo-and-key-7")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/home/")
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_new_tokens_secret_is_shown_whole_and_copied_with_one_click(browser_as, user, width):
    page = browser_as(user, width=width, permissions=["clipboard-read", "clipboard-write"])
    page.goto("/accounts/tokens/")
    page.get_by_label("Token name").fill("laptop script")
    page.get_by_role("button", name="Create token").click()

    secret = page.locator("#token-secret")
    shown = secret.inner_text().strip()
    assert len(shown) >= 40
    # Nothing clipped: the whole secret fits inside its box, and its box inside the page.
    assert secret.evaluate("e => e.scrollWidth <= e.clientWidth")
    box = secret.bounding_box()
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= width
    assert no_horizontal_overflow(page)

    page.get_by_role("button", name="Copy").click()
    page.get_by_role("button", name="Copied ✓").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == shown
    assert page.get_by_text("Copied to the clipboard.").is_visible()


@pytest.mark.parametrize("width", [1280, 390])
def test_under_attack_a_new_browser_is_offered_a_sign_in_link_and_gets_in_with_it(
    chromium, live_server, django_user_model, settings, sent_tasks, width
):
    """Issue 28: rotating addresses kept the owner out of a new browser; the page offers a link."""
    import re

    from django.core import mail
    from django.core.cache import cache

    from tests.accounts.test_login_link import attack

    cache.clear()
    settings.LOGIN_USERNAME_FREE = 3
    settings.LOGIN_USERNAME_MAX_DELAY = 60
    django_user_model.objects.create_user("melody", email="melody@example.com", password="tempo-and-key-42")
    attack("melody")
    context = chromium.new_context(base_url=live_server.url, viewport={"width": width, "height": 844})
    page = context.new_page()
    try:
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill("melody")
        page.get_by_label("Password").fill("tempo-and-key-42")
        page.get_by_role("button", name="Sign in").click()
        offer = page.get_by_role("button", name="E-mail me a sign-in link")
        offer.wait_for()
        assert page.get_by_text("Many sign-ins to this account failed recently").first.is_visible()
        assert no_horizontal_overflow(page)
        offer.click()
        page.get_by_role("heading", name="Check your e-mail").wait_for()
        assert no_horizontal_overflow(page)

        link = re.search(r"https?://\S+/accounts/login/link/\S+/", str(mail.outbox[-1].body)).group(0)
        page.goto(link.replace("http://testserver", live_server.url))
        page.get_by_role("heading", name="Sign in as melody").wait_for()
        assert no_horizontal_overflow(page)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/home/")
        assert page.get_by_role("heading", name="Hi melody").is_visible()
    finally:
        context.close()
