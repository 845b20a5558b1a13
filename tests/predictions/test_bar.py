"""Issue 24.5: the bar (beats per bar and the first downbeat) beside the tempo, when the analysis found it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from predictions.presenters import tempo_view
from tests.predictions.factories import DonePredictionFactory

pytestmark = pytest.mark.django_db


def test_the_bar_is_said_in_words_with_its_first_downbeat():
    view = tempo_view(DonePredictionFactory.build(downbeat_times=[0.42, 2.42], beats_per_bar=4))
    assert view.first_downbeat == 0.42
    assert view.bar_words == "4 beats to the bar, the first “1” at 0.42 s"


def test_half_a_bar_known_says_only_that_half():
    assert tempo_view(DonePredictionFactory.build(beats_per_bar=3)).bar_words == "3 beats to the bar"
    assert (
        tempo_view(DonePredictionFactory.build(downbeat_times=[1.0])).bar_words == "the first “1” at 1.00 s"
    )


def test_an_unknown_or_unreadable_bar_says_nothing():
    assert tempo_view(DonePredictionFactory.build()).bar_words == ""
    garbled = tempo_view(DonePredictionFactory.build(downbeat_times=["x", -1, True], beats_per_bar=None))
    assert (garbled.downbeat_times, garbled.bar_words) == ((), "")


def test_no_bar_is_claimed_for_a_clip_that_is_not_music():
    noise = DonePredictionFactory.build(sounds_like="noise", downbeat_times=[0.5], beats_per_bar=4)
    assert tempo_view(noise).bar_words == ""


def test_the_result_page_shows_the_bar_beside_the_tempo(signed_in, user):
    song = DonePredictionFactory(owner=user, beat_times=[0.1, 0.6], downbeat_times=[0.6], beats_per_bar=4)
    html = signed_in.get(reverse("predictions:detail", args=[song.pk])).content.decode()
    assert "4 beats to the bar, the first “1” at 0.60 s" in html
    assert 'data-first-downbeat="0.6"' in html


def test_the_result_page_shows_no_bar_when_it_is_unknown(signed_in, user):
    song = DonePredictionFactory(owner=user, beat_times=[0.1, 0.6])
    html = signed_in.get(reverse("predictions:detail", args=[song.pk])).content.decode()
    assert 'id="bar-fact"' not in html
