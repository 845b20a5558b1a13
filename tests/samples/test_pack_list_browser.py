"""Issue 26 point 4 in a real Chromium, at 1280 and 390 px: the pack list's "For …" names the songs
the pack's sounds were saved from, not every song whose recommendations included one of them."""

from __future__ import annotations

import pytest

from samples.models import Recommendation
from samples.packs import pack_add_sound, pack_create
from tests.accounts.factories import UserFactory
from tests.conftest import no_horizontal_overflow
from tests.predictions.factories import DonePredictionFactory
from tests.samples.factories import make_sound

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_the_pack_list_names_the_song_each_sound_was_saved_from(browser_as, width):
    user = UserFactory(username=f"packs-{width}")
    saved_from = DonePredictionFactory(owner=user, title="Digital Love", artist="Daft Punk")
    only_recommended = DonePredictionFactory(owner=user, title="Aerodynamic", artist="Daft Punk")
    pack = pack_create(owner=user, name="Night drive")
    sound = make_sound(1)
    pack_add_sound(pack=pack, sound=sound, song=saved_from)
    for song in (saved_from, only_recommended):
        Recommendation.objects.create(prediction=song, sound=sound, rank=1, genre="dance")
    page = browser_as(user, width=width)

    page.goto("/packs/")

    songs = page.locator(".pack-songs")
    assert songs.inner_text() == "For Daft Punk – Digital Love"
    assert "Aerodynamic" not in page.locator("main").inner_text()
    assert no_horizontal_overflow(page)
