"""In a real browser: the cards say why they were chosen, and "More like this sample" opens the
sample's nearest neighbours, playable and savable, at desktop and phone widths."""

from __future__ import annotations

import numpy as np
import pytest
from django.utils import timezone

from samples import indexing, similarity
from samples.audio_index import vector_to_bytes
from samples.models import GenreSearch, Pack, Recommendation, Sound
from samples.services import recommendations_create_for_prediction
from tests.predictions.factories import DonePredictionFactory
from tests.samples.conftest import add_loops, ensure_genre_searches

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def tag_values(**strong: float) -> np.ndarray:
    values = np.full(100, 0.01, np.float32)
    for i, name in enumerate(similarity.TAG_NAMES):
        values[i] = strong.get(name, values[i])
    return values


def tag_vector(**strong: float) -> bytes:
    return vector_to_bytes(tag_values(**strong))


def test_why_line_and_more_like_this_sample(signed_in_page, fs, live_server):
    page, user = signed_in_page
    indexing.process_index_reset()
    ensure_genre_searches()
    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    add_loops(fs, "house", n=12, bpm=124, licence="cc0")
    prediction = DonePredictionFactory(owner=user, tempo_bpm=124.0, confidence=0.9, key="A minor")
    recommendations_create_for_prediction(prediction=prediction)  # fills the index from the fake
    Recommendation.objects.filter(prediction=prediction).delete()
    # The audio index, as the job leaves it: sound i sits at distance i from sound 0.
    rng = np.random.default_rng(5)
    base = rng.standard_normal(400)
    sounds = list(Sound.objects.order_by("freesound_id"))
    for i, sound in enumerate(sounds):
        Sound.objects.filter(pk=sound.pk).update(
            audio_status=Sound.AudioStatus.OK,
            embedding=vector_to_bytes(base + 0.1 * i * rng.standard_normal(400)),
            tag_vector=tag_vector(synth=0.8, electronic=0.6, beat=0.4),
            audio_at=timezone.now(),
        )
    song_tags = tag_values(synth=0.7, electronic=0.9)
    # As the genre job stores it (worker.heads.fewshot.backbone_to_dict).
    prediction.backbone_output = {
        "msd": song_tags[:50].tolist(),
        "mtt": song_tags[50:].tolist(),
        "embedding": base.tolist(),
    }
    prediction.tags = [["electronic", 0.9], ["synth", 0.7], ["beat", 0.5]]
    prediction.save()
    assert len(recommendations_create_for_prediction(prediction=prediction)) == 5

    page.goto(prediction.get_absolute_url())
    cards = page.locator(".sample-card")
    assert cards.count() == 5
    # song × sample strength: synth 0.7 × 0.8, electronic 0.9 × 0.6, beat 0.5 × 0.4
    assert cards.nth(0).locator("[data-why]").inner_text() == "sounds close: synth, electronic, beat"
    first = Recommendation.objects.filter(prediction=prediction).order_by("rank").first().sound

    cards.nth(0).get_by_role("link", name="More like this sample").click()
    page.wait_for_url(f"**/packs/sounds/{first.pk}/similar/**")
    assert page.get_by_role("heading", level=1).inner_text() == f"More like “{first.name}”"
    shown = page.locator("#similar-sounds .sample-card")
    expected = [s for s in sounds if s.pk != first.pk]
    expected.sort(key=lambda s: abs(sounds.index(s) - sounds.index(first)))  # nearest first
    assert shown.count() == 10
    assert shown.nth(0).get_attribute("data-freesound-id") == str(expected[0].freesound_id)
    assert not [c for c in fs.api_calls() if c.arg("similar_to")]  # the index had enough

    # Play one and save it to a pack, from the similar page.
    player = shown.nth(0).locator("audio")
    player.evaluate("a => a.play()")
    page.wait_for_function("a => a.currentTime > 0 || a.ended", arg=player.element_handle())
    shown.nth(0).locator("input[name=pack_name]").fill("Like it")
    shown.nth(0).get_by_role("button", name="Save").click()
    shown.nth(0).get_by_text("Saved to").wait_for()
    assert Pack.objects.get(owner=user, name="Like it").items.count() == 1
    assert Pack.objects.get(owner=user, name="Like it").items.get().song == prediction  # reached from it

    # Back to the song, and the page at a phone's width: nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_role("link", name="Back to the song").click()
    page.wait_for_url(f"**{prediction.get_absolute_url()}**")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
