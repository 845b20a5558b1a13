"""Every page in a real Chromium at a desktop and a phone width: nothing wider than the screen,
headings and list titles readable, and badges beside (never over) the thumbnails."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from fakeapis.audio import png_square
from predictions.models import Prediction
from samples import packs as sample_packs
from samples.models import Recommendation, Sound
from tests.accounts.factories import UserFactory
from tests.conftest import no_horizontal_overflow
from tests.predictions.factories import DonePredictionFactory, PredictionFactory
from tests.samples.factories import make_sound

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_TITLE = "Harder, Better, Faster, Stronger (Alive 2007 Extended Version With A Very Long Name)"
LONG_ARTIST = "Daft Punk & The Orchestra Of Unusually Long Names"


def _sound(n: int) -> Sound:
    return make_sound(
        n,
        name=f"deep_house_groove_loop_124bpm_Amin_take{n}_final_final.wav",
        author=f"producer_with_a_long_username_{n}",
        duration=7.5,
        bpm=124,
        key="A minor",
        page_url=f"https://freesound.org/people/someone/sounds/{n}/",
    )


@pytest.fixture
def site(db):
    """A user with a history (done, running and failed songs), a pack and samples."""
    user = UserFactory(username="melody")
    done = DonePredictionFactory(owner=user, title=LONG_TITLE, artist=LONG_ARTIST, excerpt_s=30.0)
    done.spectrogram.save("s.png", ContentFile(png_square()))
    PredictionFactory(owner=user, title="Night Drive", status=Prediction.Status.RUNNING, stage="analysing")
    failed = PredictionFactory(
        owner=user,
        source="upload",
        title="snare_hit_final_v2_REALLY_final_bounce_44k",
        artist="",
        status=Prediction.Status.FAILED,
        error="The audio lasts 1.0 s; at least 3 s are needed.",
        input_error=True,
    )
    sounds = [_sound(n) for n in range(1, 6)]
    for rank, sound in enumerate(sounds, start=1):
        Recommendation.objects.create(
            prediction=done, sound=sound, rank=rank, genre="dance", matched_tempo=True
        )
    pack = sample_packs.pack_create(owner=user, name="Dusty drums for the EP’s second single")
    for sound in sounds[:3]:
        sample_packs.pack_add_sound(pack=pack, sound=sound)
    return {"user": user, "done": done, "failed": failed, "pack": pack}


def _signed_in_pages(site) -> list[tuple[str, str]]:
    done, failed, pack = site["done"], site["failed"], site["pack"]
    return [
        ("/home/", "Hi melody"),
        ("/predictions/", "Your predictions"),
        ("/predictions/?q=daft", "Your predictions"),
        (done.get_absolute_url(), "Harder, Better"),
        (failed.get_absolute_url(), "snare_hit_final"),
        (f"/predictions/{done.pk}/delete/", "Delete this prediction?"),
        ("/new/", "New prediction"),
        ("/new/?q=daft+punk&provider=deezer", "New prediction"),
        ("/new/artist/deezer/27/", "New prediction"),
        ("/new/album/deezer/302127/", "New prediction"),
        ("/new/?tab=upload", "New prediction"),
        ("/packs/", "Your sample packs"),
        (pack.get_absolute_url(), "Dusty drums"),
        (f"/packs/{pack.pk}/edit/", "Rename pack"),
        (f"/packs/{pack.pk}/delete/", "Delete this pack?"),
        ("/packs/new/", "New pack"),
        ("/accounts/tokens/", "API tokens"),
        ("/accounts/password/", "Change"),
    ]


def _widest(page) -> list[str]:
    """The elements reaching past the viewport's right edge, to say what overflows."""
    return page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5 || e.scrollWidth > window.innerWidth)
            .slice(0, 8)
            .map(e => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)"""
    )


def _assert_readable(page, path: str, heading: str, width: int) -> None:
    page.goto(path)
    title = page.locator("h1").first
    assert heading in title.inner_text(), path
    assert title.is_visible(), path
    box = title.bounding_box()
    assert box["width"] >= 100, path  # not squeezed to nothing
    assert box["x"] >= 0, path
    assert box["x"] + box["width"] <= width, path
    assert no_horizontal_overflow(page), (path, _widest(page))


@pytest.mark.usefixtures("catalog_settings")
@pytest.mark.parametrize("width", [1280, 390])
def test_every_signed_in_page_fits_the_screen_with_readable_titles(browser_as, site, width):
    page = browser_as(site["user"], width=width)

    for path, heading in _signed_in_pages(site):
        _assert_readable(page, path, heading, width)


@pytest.mark.parametrize("width", [1280, 390])
def test_every_public_page_fits_the_screen(chromium, live_server, width):
    context = chromium.new_context(base_url=live_server.url, viewport={"width": width, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        for path, heading in [
            ("/", "Heard a song?"),
            ("/accounts/login/", "Sign in"),
            ("/accounts/signup/", "Create"),
        ]:
            _assert_readable(page, path, heading, width)
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/home/", "/predictions/"])
@pytest.mark.parametrize("width", [1280, 390])
def test_history_rows_show_titles_and_badges_beside_the_thumbnails(browser_as, site, path, width):
    page = browser_as(site["user"], width=width)
    page.goto(path)

    rows = page.locator(".prediction-list > li")
    assert rows.count() == 3
    for i in range(rows.count()):
        row = rows.nth(i)
        title, thumb, badge = row.locator(".title"), row.locator("img, .thumb").first, row.locator(".badge")
        assert title.bounding_box()["width"] >= 150, title.inner_text()  # a readable part of the title
        assert badge.is_visible()
        thumb_box, badge_box = thumb.bounding_box(), badge.bounding_box()
        overlaps = not (
            badge_box["x"] >= thumb_box["x"] + thumb_box["width"]
            or badge_box["y"] >= thumb_box["y"] + thumb_box["height"]
            or badge_box["x"] + badge_box["width"] <= thumb_box["x"]
            or badge_box["y"] + badge_box["height"] <= thumb_box["y"]
        )
        assert not overlaps, title.inner_text()
    assert no_horizontal_overflow(page)
