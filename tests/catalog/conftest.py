from __future__ import annotations

import pytest


@pytest.fixture
def catalog_browser_user(django_user_model):
    return django_user_model.objects.create_user(username="melody", password="tempo-and-key-42")


def _signed_in_page(chromium, live_server, user, *, javascript: bool):
    from django.test import Client

    client = Client()
    client.force_login(user)
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, java_script_enabled=javascript
    )
    context.set_default_timeout(15_000)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return context, context.new_page()


@pytest.fixture
def catalog_page(chromium, live_server, catalog_browser_user):
    """A signed-in Chromium page (JavaScript on) on the live server."""
    context, page = _signed_in_page(chromium, live_server, catalog_browser_user, javascript=True)
    yield page
    context.close()


@pytest.fixture
def catalog_page_without_js(chromium, live_server, catalog_browser_user):
    context, page = _signed_in_page(chromium, live_server, catalog_browser_user, javascript=False)
    yield page
    context.close()
