"""The demo's catalog and sample library, as descriptions (nothing rendered here)."""

from __future__ import annotations

import importlib
import re

from demo.config import ARTIST_NAMES
from demo.content import catalog, library
from fakeapis.freesound_catalogue import LICENCES

SEEDED = importlib.import_module("samples.migrations.0002_seed_genre_searches").GENRES
MODEL_GENRES = {slug for slug, *_ in SEEDED}  # the seven genres


def _found_by(query: str, kind: str) -> list:
    """What the demo Freesound's search (fakeapis' catalogue rules) finds for a seeded phrase, keeping
    only what samples' filter keeps for every user: no non-commercial licence, 1-30 s, loops if asked."""
    found = []
    for sound in library():
        words = set(re.findall(r"[\w&+-]+", sound.name.lower())) | {t.lower() for t in sound.tags}
        if not all(term in words for term in query.lower().split()):
            continue
        if sound.licence == "bync" or not 1.0 <= sound.duration <= 30.0:
            continue
        if kind == "loop" and "loop" not in sound.tags:
            continue
        found.append(sound)
    return found


def test_every_seeded_search_phrase_finds_five_usable_sounds_by_several_authors():
    for slug, _name, queries, kind in SEEDED:
        for query in queries:
            found = _found_by(query, kind)
            assert len(found) >= 5, (slug, query, len(found))
            assert len({s.username for s in found}) >= 3, (slug, query)


def test_the_library_has_150_loops_and_one_shots_with_bpm_key_tags_licence_and_author():
    sounds = library()
    loops = [s for s in sounds if s.is_loop]
    one_shots = [s for s in sounds if not s.is_loop]

    assert len(sounds) >= 150
    assert len({s.id for s in sounds}) == len(sounds)
    assert len({s.name for s in sounds}) == len(sounds)
    assert one_shots
    assert all("one-shot" in s.tags and s.bpm is None for s in one_shots)
    assert all(s.bpm and "loop" in s.tags and s.tags for s in loops)
    melodic = [s for s in loops if s.family.parts != ("drums",)]
    assert all(re.fullmatch(r"[A-G][#b]? (major|minor)", s.tonality or "") for s in melodic)
    assert {s.licence for s in sounds} == {"cc0", "by4", "by3", "bync"}
    assert set(LICENCES) >= {s.licence for s in sounds}
    assert len({s.username for s in sounds}) >= 10


def test_a_loop_lasts_a_whole_number_of_bars_at_its_tempo():
    for sound in library():
        if sound.is_loop:
            assert sound.style is not None
            beats = sound.duration * sound.style.tempo / 60.0
            assert abs(beats - round(beats)) < 0.01
            assert round(beats) % sound.style.meter == 0


def test_the_catalog_spans_several_of_the_seven_genres_and_some_outside_them():
    tracks = catalog().tracks
    genres = {t.genre for t in tracks}

    assert len(genres & set(MODEL_GENRES)) >= 5
    assert len(genres - set(MODEL_GENRES)) >= 2  # e.g. jazz, country, reggae
    assert {t.style.seconds for t in tracks} == {30.0}
    assert len({t.isrc for t in tracks}) == len(tracks)
    assert tuple(a.name for a in catalog().artists) == ARTIST_NAMES  # the banner's list is current
    assert all(any(t.artist_id == a.id for t in tracks) for a in catalog().artists)


def test_the_same_code_builds_a_smaller_library_for_tests():
    small = library(0.25)

    assert 0 < len(small) < len(library())
    assert {s.family.label for s in small} == {s.family.label for s in library()}
    assert len(catalog(0.3).tracks) < len(catalog().tracks)
