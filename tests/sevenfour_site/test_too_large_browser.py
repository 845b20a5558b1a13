"""The 413 page in a real Chromium (issue 26.9): a signed-in user whose upload is over the request
cap sees their own header (their menu, "New prediction"), not the signed-out one; at 1280 and 390 px."""

from __future__ import annotations

import pytest

from tests.conftest import no_horizontal_overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_the_too_large_page_keeps_the_signed_in_header(browser_as, user, settings, tmp_path, width):
    # The cap below the form's own limit, so the page's size check lets the file go and the server refuses it.
    settings.REQUEST_BODY_MAX_BYTES = 32 * 1024
    song = tmp_path / "song.wav"
    song.write_bytes(b"RIFF" + b"\0" * (64 * 1024))
    page = browser_as(user, width=width)

    page.goto("/new/?tab=upload")
    page.locator("input[type=file]").set_input_files(str(song))
    page.get_by_role("button", name="Upload and analyse").click()
    page.get_by_role("heading", name="That was too large").wait_for()

    header = page.locator("header.topbar")
    if width < 600:
        header.locator(".nav-burger").click()  # the phone layout folds the links into a menu
    assert header.locator(".nav-user summary").inner_text() == user.username
    assert header.get_by_role("link", name="New prediction").count() == 1
    assert header.get_by_role("link", name="Sign in").count() == 0
    assert no_horizontal_overflow(page)
