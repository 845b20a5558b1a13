"""The API reference pages in a real Chromium: everything they load comes from this site."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("path", "heading"), [("/api/redoc/", "Seven/Four API"), ("/api/docs/", "Seven/Four API")]
)
@pytest.mark.parametrize("width", [1280, 390])
def test_api_docs_load_nothing_from_other_sites(chromium, live_server, path, heading, width):
    context = chromium.new_context(base_url=live_server.url, viewport={"width": width, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    requested: list[str] = []
    blocked: list[str] = []  # stopped by the page's Content-Security-Policy: never sent
    page.on("request", lambda request: requested.append(request.url))

    def note_if_blocked(request: Request) -> None:
        if request.failure == "csp":
            blocked.append(request.url)

    page.on("requestfailed", note_if_blocked)
    try:
        page.goto(path)
        page.get_by_role("heading", name=heading).first.wait_for()
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(500)  # let late failure events (CSP blocks) arrive before judging
    finally:
        context.close()

    site = urlsplit(live_server.url).netloc
    sent = [url for url in requested if url not in blocked and urlsplit(url).scheme in ("http", "https")]
    elsewhere = [url for url in sent if urlsplit(url).netloc != site]
    assert elsewhere == []
    # Not even tried (issue 26.9: ReDoc asked cdn.redoc.ly for its logo, which the policy blocked).
    tried = [url for url in requested if urlsplit(url).scheme in ("http", "https")]
    assert [url for url in tried if urlsplit(url).netloc != site] == []
    assert any("/api/schema/" in url for url in requested)  # the docs did load the schema
