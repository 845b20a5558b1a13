"""`make demo` in a real Chromium: the demo banner, sign-in with the printed account, a catalog pick,
the result with five demo samples (one played), a pack, and its ZIP; a real worker and the real model."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest

from demo.accounts import accounts_ensure
from demo.config import DEMO_USER
from samples.models import Pack
from tests.conftest import running_worker
from tests.samples.conftest import ensure_genre_searches

pytestmark = [
    pytest.mark.browser,
    pytest.mark.model,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("demo_settings"),
]


def test_demo_sign_in_pick_a_track_hear_a_sample_and_download_the_pack(page, job_broker, tmp_path):
    ensure_genre_searches()
    accounts_ensure()
    # The site's strict policy (no inline script, art and audio from allowed origins) holds here too.
    violations: list[str] = []
    page.on(
        "console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None
    )

    page.goto("/accounts/login/")
    banner = page.get_by_role("complementary", name="Demo mode")
    assert DEMO_USER.password in banner.inner_text()
    page.get_by_label("Username").fill(DEMO_USER.username)
    page.get_by_label("Password").fill(DEMO_USER.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/home/")
    assert banner.is_visible()

    with running_worker():
        page.get_by_role("link", name="New prediction").first.click()
        page.get_by_label("Artist").fill("aurora mains")
        page.get_by_role("button", name="Search").click()
        page.get_by_role("link", name="Aurora Mains", exact=True).click()
        page.get_by_role("link", name=re.compile(r"^Night Transit")).click()
        row = page.get_by_role("listitem").filter(has_text="Platform Lights")
        row.get_by_role("button", name="Use Platform Lights").click()
        page.wait_for_url(re.compile(r"/predictions/\d+/$"))
        page.get_by_role("heading", name="Genre", exact=True).wait_for(timeout=240_000)
        cards = page.locator(".sample-card")
        cards.first.wait_for(timeout=60_000)

    assert cards.count() == 5
    player = cards.nth(0).locator("audio")
    player.evaluate("a => a.play()")
    page.wait_for_function("a => a.currentTime > 0 || a.ended", arg=player.element_handle())

    for n in (0, 1):
        card = cards.nth(n)
        card.locator("input[name=pack_name]").fill("Demo pack")
        card.get_by_role("button", name="Save").click()
        card.get_by_text("Saved to").wait_for()
    cards.nth(1).get_by_role("link", name="Demo pack").click()
    pack = Pack.objects.get(owner__username=DEMO_USER.username)
    page.wait_for_url(f"**{pack.get_absolute_url()}")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download ZIP").click()
    path = tmp_path / "pack.zip"
    info.value.save_as(path)

    archive = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    assert len([n for n in archive.namelist() if n.endswith(".mp3")]) == 2
    assert json.loads(archive.read("pack.json"))["name"] == "Demo pack"

    page.set_viewport_size({"width": 390, "height": 800})  # the banner fits a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert banner.is_visible()
    assert violations == []
