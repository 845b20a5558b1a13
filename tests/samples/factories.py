from __future__ import annotations

import factory

from fakeapis.freesound import BY4
from samples.models import Sound
from tests.factories import ModelFactory


class SoundFactory(ModelFactory):
    """A Freesound loop under CC BY 4.0; its name, author and links follow its freesound_id."""

    class Meta:
        model = Sound

    # Far above the small ids the tests pick by hand with make_sound(n).
    freesound_id = factory.Sequence(lambda n: 100_000 + n)
    name = factory.LazyAttribute(lambda s: f"loop {s.freesound_id}.wav")
    author = factory.LazyAttribute(lambda s: f"author{s.freesound_id}")
    licence_url = BY4
    duration = 8.0
    page_url = factory.LazyAttribute(
        lambda s: f"https://freesound.org/people/author{s.freesound_id}/sounds/{s.freesound_id}/"
    )
    preview_url = factory.LazyAttribute(
        lambda s: f"https://cdn.freesound.org/previews/0/{s.freesound_id}_1-hq.mp3"
    )


def make_sound(n: int = 1, **kwargs) -> Sound:
    """Sound number `n` (its freesound_id), as the tests that count sounds by hand name them."""
    return SoundFactory(freesound_id=n, **kwargs)
