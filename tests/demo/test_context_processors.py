"""The "demo mode" banner: on every page when DEMO_MODE is on, nowhere otherwise, CSP-friendly."""

from __future__ import annotations

import re

import pytest

from demo.config import DEMO_ADMIN, DEMO_USER

pytestmark = pytest.mark.django_db


def _banner(html: str) -> str:
    match = re.search(r'<aside class="demo-banner".*?</aside>', html, flags=re.DOTALL)
    return match.group(0) if match else ""


def test_signed_out_pages_show_the_banner_with_the_demo_accounts(client, settings):
    settings.DEMO_MODE = True
    for url in ("/", "/accounts/login/", "/accounts/signup/"):
        banner = _banner(client.get(url).content.decode())
        assert "Demo mode" in banner, url
        assert f"{DEMO_USER.username}</code> / <code>{DEMO_USER.password}" in banner
        assert DEMO_ADMIN.username in banner


def test_signed_in_pages_show_the_banner_without_passwords(client, settings, user):
    settings.DEMO_MODE = True
    client.force_login(user)
    for url in ("/home/", "/new/", "/predictions/", "/packs/"):
        response = client.get(url)
        assert response.status_code == 200, url
        banner = _banner(response.content.decode())
        assert "Demo mode" in banner, url
        assert DEMO_USER.password not in banner
        assert "Aurora Mains" in banner  # where to start in the demo catalog


def test_no_banner_outside_demo_mode(client, settings, user):
    settings.DEMO_MODE = False
    assert _banner(client.get("/accounts/login/").content.decode()) == ""
    client.force_login(user)
    assert "Demo mode" not in client.get("/home/").content.decode()


def test_the_banner_has_no_inline_style_or_script(client, settings):
    settings.DEMO_MODE = True
    banner = _banner(client.get("/accounts/login/").content.decode())

    assert banner
    assert "style=" not in banner
    assert "<script" not in banner
    assert "<style" not in banner
