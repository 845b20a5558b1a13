"""In a real Chromium, with a real worker running the samples stage: an unsure tempo is shown as
such; the user doubles it, taps it, picks a related key and names the genre, sees "set by you" each
time, and the samples are found again to fit each correction."""

from __future__ import annotations

import re

import pytest

from predictions.models import Prediction
from samples.models import GenreSearch
from samples.services import recommendations_create_for_prediction
from tests.conftest import running_worker
from tests.predictions.factories import DonePredictionFactory
from tests.samples.conftest import (  # noqa: F401 (fixtures)
    _freesound_catalogue_server,
    add_loops,
    clock,
    ensure_genre_searches,
    fs,
    genres,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _samples_ready(page) -> None:
    """Wait until the samples panel has its cards (after "Finding samples…")."""
    page.locator("#samples-title", has_text="Samples that fit").wait_for(timeout=30_000)
    page.locator(".sample-card").first.wait_for()


def _card_bpms(page) -> list[int]:
    texts = page.locator(".sample-card > p.muted.small").all_inner_texts()
    return [int(re.search(r"(\d+) BPM", text)[1]) for text in texts]


def _header_matches_the_cards(page) -> None:
    promise = page.locator("#samples-promise").inner_text()
    in_tempo = page.locator(".sample-card .fit-tempo", has_text=re.compile(r"^in tempo$")).count()
    same_key = page.locator(".sample-card .fit-key", has_text=re.compile(r"^same key$")).count()
    total = page.locator(".sample-card").count()
    assert f"{in_tempo} of {total} in tempo" in promise
    if "key that mixes" in promise:
        assert f"({same_key} in the same key)" in promise


@pytest.mark.parametrize("width", [1280, 390])
def test_correct_tempo_by_doubling_and_tapping_pick_a_key_set_the_genre_and_the_samples_follow(
    signed_in_page,
    fs,  # noqa: F811 (the fixture imported above)
    job_broker,
    width,
):
    page, user = signed_in_page
    page.set_viewport_size({"width": width, "height": 900})
    ensure_genre_searches()
    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    GenreSearch.objects.filter(slug="rnb").update(queries="rnb loop")
    add_loops(fs, "house", n=6, bpm=96, tonality="A minor")
    add_loops(fs, "fast", n=6, bpm=192, tonality="E minor", tags=("house", "loop", "fast"))
    add_loops(fs, "rnb", n=6, bpm=192, tonality="C major")
    prediction = DonePredictionFactory(
        owner=user, tempo_bpm=96.0, tempo_confidence=0.1, key="A minor", key_confidence=0.7, confidence=0.9
    )
    recommendations_create_for_prediction(prediction=prediction)

    with running_worker():
        page.goto(prediction.get_absolute_url())
        _samples_ready(page)
        tempo = page.locator("#tempo-fact")
        assert tempo.get_by_text("unsure").is_visible()
        assert tempo.get_by_text("or 192 BPM?").is_visible()
        assert set(_card_bpms(page)) == {96}
        _header_matches_the_cards(page)

        # ×2: one click, stored as the user's, the samples follow.
        page.get_by_role("button", name="Double the tempo to 192 BPM").click()
        page.locator("#tempo-fact").get_by_text("set by you").wait_for()
        assert page.locator("#tempo-fact .fact-value").inner_text() == "192 BPM"
        _samples_ready(page)
        assert set(_card_bpms(page)) == {192}
        _header_matches_the_cards(page)

        # Tap tempo: three taps on the button and three on the T key, about 120 BPM.
        tap = page.get_by_role("button", name="Tap", exact=True)
        tap.wait_for()
        for n in range(6):
            if n < 3:
                tap.click()
            else:
                page.locator("body").press("t")
            page.wait_for_timeout(500)
        assert "Tapped" in page.locator(".tap-status").inner_text()
        tapped = float(page.locator("#tempo-typed").input_value())
        assert 90 <= tapped <= 125, tapped  # 500 ms apart, plus the browser's own latency
        page.get_by_role("button", name="Set tempo").click()
        page.locator("#tempo-fact").get_by_text("set by you").wait_for()
        assert page.locator("#tempo-fact .fact-value").inner_text() == f"{tapped:g} BPM"
        _samples_ready(page)
        _header_matches_the_cards(page)
        prediction.refresh_from_db()
        assert (prediction.user_tempo_bpm, prediction.tempo_bpm) == (tapped, 96.0)

        # Back to ×2 of the estimate, then a key from the picker: the relative major.
        page.get_by_role("button", name=re.compile(r"Back to the estimate \(96 BPM\)")).click()
        page.get_by_role("button", name="Double the tempo to 192 BPM").click()
        page.locator("#tempo-fact").get_by_text("set by you").wait_for()
        page.get_by_role("button", name=re.compile(r"^C major · relative key")).click()
        page.locator("#key-fact").get_by_text("set by you").wait_for()
        assert page.locator("#key-fact .fact-value").inner_text() == "C major"
        _samples_ready(page)
        _header_matches_the_cards(page)
        assert "In C major (set by you)" in page.locator("#samples-promise").inner_text()

        # The genre: "this is R&B"; the samples now come from R&B, in tempo and in key.
        page.get_by_label("Not right? This is").select_option(label="R&B")
        page.get_by_role("button", name="Set genre").click()
        page.locator("#genre-choice").get_by_text("set by you").wait_for()
        assert "This is R&B" in page.locator("#genre-choice").inner_text()
        _samples_ready(page)
        names = page.locator(".sample-card .sample-name").all_inner_texts()
        assert names
        assert all(name.startswith("rnb loop") for name in names), names
        assert page.locator(".sample-card .fit-tempo", has_text="in tempo").count() == len(names)
        assert page.locator(".sample-card .fit-key", has_text="same key").count() == len(names)
        _header_matches_the_cards(page)

        # Nothing overflows the viewport sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= width

    prediction.refresh_from_db()
    assert (prediction.user_tempo_bpm, prediction.user_key, prediction.user_genre) == (
        192.0,
        "C major",
        "rnb",
    )
    assert (prediction.tempo_bpm, prediction.key, prediction.top_genre) == (96.0, "A minor", "dance")
    assert Prediction.objects.count() == 1
