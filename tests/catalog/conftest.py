from __future__ import annotations

import pytest


@pytest.fixture
def catalog_browser_user(django_user_model):
    return django_user_model.objects.create_user(username="melody", password="tempo-and-key-42")


@pytest.fixture
def catalog_page(browser_as, catalog_browser_user):
    """A signed-in Chromium page (JavaScript on) on the live server."""
    return browser_as(catalog_browser_user)


@pytest.fixture
def catalog_page_without_js(browser_as, catalog_browser_user):
    return browser_as(catalog_browser_user, java_script_enabled=False)
