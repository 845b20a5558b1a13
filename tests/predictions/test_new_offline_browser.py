"""The New prediction page in a real Chromium when the catalog cannot be reached at all (issue 26.9):
it says so, suggests no waiting, and its upload link leads to the upload form; at 1280 and 390 px."""

from __future__ import annotations

import pytest

from tests.conftest import free_port, no_horizontal_overflow

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("catalog_settings"),
]


@pytest.mark.parametrize("width", [1280, 390])
def test_an_unreachable_catalog_offers_upload_instead_of_waiting(
    browser_as, catalog_browser_user, settings, width
):
    settings.DEEZER_API_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there: offline
    page = browser_as(catalog_browser_user, width=width)
    page.goto("/new/")

    page.get_by_label("Artist or song").fill("daft punk")
    page.get_by_role("button", name="Search").click()
    alert = page.get_by_role("alert").filter(has_text="cannot be reached")
    alert.wait_for()

    assert alert.inner_text().startswith("Deezer cannot be reached from this server at all")
    assert "minutes" not in alert.inner_text()
    assert no_horizontal_overflow(page)
    page.get_by_role("link", name="Upload a file instead").click()
    page.get_by_role("button", name="Upload and analyse").wait_for()
