"""In a real browser: from a finished prediction, play a sample, save two to a new pack, download the ZIP."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest

from samples import packs
from samples.models import GenreSearch, Pack
from samples.services import recommendations_create_for_prediction
from tests.accounts.factories import UserFactory
from tests.predictions.factories import DonePredictionFactory
from tests.samples.conftest import add_loops, ensure_genre_searches

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_play_save_two_to_a_new_pack_and_download(signed_in_page, fs, live_server, tmp_path):
    page, user = signed_in_page
    ensure_genre_searches()
    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    add_loops(fs, "house", n=10, bpm=124, licence="by4")
    prediction = DonePredictionFactory(owner=user, tempo_bpm=124.0, confidence=0.9, key="A minor")
    assert len(recommendations_create_for_prediction(prediction=prediction)) == 5

    page.goto(prediction.get_absolute_url())
    cards = page.locator(".sample-card")
    assert cards.count() == 5

    # Play the first sample's HQ preview (served by the fake Freesound).
    player = cards.nth(0).locator("audio")
    player.evaluate("a => a.play()")
    page.wait_for_function("a => a.currentTime > 0 || a.ended", arg=player.element_handle())
    assert any(r.path.endswith("-hq.mp3") for r in fs.calls("/previews/"))

    # Save two samples to a new pack, with htmx.
    for n in (0, 1):
        card = cards.nth(n)
        card.locator("input[name=pack_name]").fill("Browser pack")
        card.get_by_role("button", name="Save").click()
        card.get_by_text("Saved to").wait_for()
    pack = Pack.objects.get(owner=user)
    assert pack.name == "Browser pack"
    assert pack.items.count() == 2
    assert set(pack.items.values_list("song", flat=True)) == {prediction.pk}  # saved from this song

    # The pack page, then the ZIP (small: zipped in the request).
    cards.nth(1).get_by_role("link", name="Browser pack").click()
    page.wait_for_url(f"**{pack.get_absolute_url()}")
    assert page.locator(".pack-sounds audio").count() >= 2
    with page.expect_download() as info:
        page.get_by_role("button", name="Download ZIP").click()
    path = tmp_path / "pack.zip"
    info.value.save_as(path)

    archive = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    mp3s = [n for n in archive.namelist() if n.endswith(".mp3")]
    assert len(mp3s) == 2
    assert all(re.fullmatch(r"house_loop_\d+_124bpm\.mp3", n) for n in mp3s)
    assert "CC BY 4.0" in archive.read("ATTRIBUTION.txt").decode()
    assert json.loads(archive.read("pack.json"))["name"] == "Browser pack"


@pytest.mark.parametrize("width", [1280, 390])
def test_removing_a_sound_is_a_quiet_action_and_the_count_follows(browser_as, width):
    from tests.conftest import no_horizontal_overflow
    from tests.samples.factories import make_sound

    user = UserFactory(username="packer")
    pack = packs.pack_create(owner=user, name="Night drive")
    for n in (1, 2):
        packs.pack_add_sound(pack=pack, sound=make_sound(n))
    page = browser_as(user, width=width)
    page.goto(pack.get_absolute_url())

    remove = page.get_by_role("button", name="Remove").first
    primary = page.get_by_role("button", name="Download ZIP")
    style = "e => getComputedStyle(e).backgroundColor"
    assert remove.evaluate(style) == "rgba(0, 0, 0, 0)"  # not filled like the primary action
    assert primary.evaluate(style) != remove.evaluate(style)
    assert page.locator("#pack-count").inner_text() == "2 sounds"
    assert no_horizontal_overflow(page)

    remove.click()
    page.locator("#pack-count", has_text="1 sound").wait_for()
    assert page.get_by_role("button", name="Remove").count() == 1


_LABELS_CUT = """sel => {
  // The options whose label would be cut in the closed select: wider than its text box (less the arrow).
  const style = getComputedStyle(sel);
  const ctx = document.createElement("canvas").getContext("2d");
  ctx.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const room = sel.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 16;
  return [...sel.options].filter(o => ctx.measureText(o.text).width > room).map(o => o.text);
}"""


@pytest.mark.parametrize("width", [1280, 390])
def test_the_zip_form_conforms_each_sound_to_its_song_by_default_and_its_labels_fit(browser_as, width):
    # Issue 26 point 1: all WAVs came out in the most recent song's tempo and key, and the song's
    # label was cut at "Blue Hollow Trio – Muddy Wate…".
    from samples.models import PackExport
    from tests.conftest import no_horizontal_overflow
    from tests.samples.factories import make_sound

    user = UserFactory(username=f"zipper-{width}")
    drive = DonePredictionFactory(owner=user, title="Drive", artist="", tempo_bpm=126.0, key="Eb minor")
    muddy = DonePredictionFactory(
        owner=user, artist="Blue Hollow Trio", title="Muddy Waters Blues", tempo_bpm=72.0, key="Ab minor"
    )
    DonePredictionFactory(  # the longest label there can be: a long title, three-digit tempo, flat key
        owner=user, artist="", title="Midnight Waters of the Long Delta Road", tempo_bpm=126.4, key="Bb minor"
    )
    pack = packs.pack_create(owner=user, name="Two songs")
    packs.pack_add_sound(pack=pack, sound=make_sound(1), song=drive)
    packs.pack_add_sound(pack=pack, sound=make_sound(2), song=muddy)
    page = browser_as(user, width=width)
    page.goto(pack.get_absolute_url())

    select = page.get_by_label("Song to conform to")
    assert select.evaluate("s => s.options[s.selectedIndex].text") == "each to the song it was saved from"
    assert select.evaluate("s => s.options[s.selectedIndex].value") == ""
    muddy_option = select.locator("option", has_text="Muddy Waters Blues · 72 BPM · Ab minor")
    assert muddy_option.get_attribute("title") == "Blue Hollow Trio – Muddy Waters Blues"  # the whole name
    assert select.evaluate(_LABELS_CUT) == []
    box = select.bounding_box()
    assert box is not None
    assert 0 <= box["x"] <= box["x"] + box["width"] <= width
    assert no_horizontal_overflow(page)

    page.get_by_label("Conformed (WAV)").check()
    page.get_by_role("button", name="Download ZIP").click()
    page.get_by_text("the tempo and key of the song it was saved from").wait_for()
    export = PackExport.objects.get(pack=pack)
    assert (export.contents, export.song) == ("conformed", None)
