"""The demo mailbox in a real Chromium (issue 26.8): a password reset asked for in the demo is read
on the page the banner links to, and its link sets a new password; at desktop and phone widths."""

from __future__ import annotations

import pytest

from tests.conftest import no_horizontal_overflow

# The reset mail is sent by a task (accounts.tasks): run it at once, as the demo's worker would.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("sent_tasks"),
]


@pytest.mark.parametrize("width", [1280, 390])
def test_a_password_reset_in_the_demo_is_read_in_the_demo_mailbox(
    chromium, live_server, settings, tmp_path, django_user_model, width
):
    settings.DEMO_MODE = True
    settings.VAR_DIR = tmp_path
    settings.EMAIL_BACKEND = "demo.mail.MailboxBackend"
    django_user_model.objects.create_user("melody", email="melody@example.com", password="old-tempo-42")
    context = chromium.new_context(base_url=live_server.url, viewport={"width": width, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto("/accounts/password/reset/")
        page.get_by_label("Email").fill("melody@example.com")
        page.get_by_role("button", name="Send the link").click()
        page.get_by_role("heading", name="Check your e-mail").wait_for()

        banner = page.get_by_role("complementary", name="Demo mode")
        banner.get_by_role("link", name="demo mailbox").click()
        page.get_by_role("heading", name="Demo mailbox").wait_for()
        message = page.locator("article.mail").first
        assert "melody@example.com" in message.inner_text()
        assert no_horizontal_overflow(page)  # the long reset link wraps on a phone

        message.get_by_role("link", name="/accounts/password/reset/").click()
        page.get_by_role("heading", name="Choose a new password").wait_for()
        page.get_by_label("New password", exact=True).fill("new-tempo-and-key-7")
        page.get_by_label("New password confirmation").fill("new-tempo-and-key-7")
        page.get_by_role("button", name="Set the password").click()
        page.get_by_role("heading", name="Password changed").wait_for()
    finally:
        context.close()
    assert django_user_model.objects.get(username="melody").check_password("new-tempo-and-key-7")
