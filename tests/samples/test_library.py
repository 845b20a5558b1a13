"""The sample library's reads (samples.library): each filter, the facet counts and each sort, on
the test database (SQLite: the portable fallbacks; bench/library.py runs them on PostgreSQL)."""

from __future__ import annotations

import numpy as np
import pytest
from django.utils import timezone

from fakeapis.freesound import BY4, BYNC, CC0
from samples import library, library_facets, library_rows
from samples.audio_index import vector_to_bytes
from samples.indexing import process_index_reset
from samples.library import LibraryQuery, Reference
from samples.models import Sound
from samples.similarity import SongVectors
from tests.samples.factories import make_sound
from worker.backbone.embed import EMBEDDING_DIM

pytestmark = pytest.mark.django_db

ALL = ["cc0", "by", "by-nc"]
SONG = Reference(tempo=124.0, key="A minor")


def _names(sounds) -> set[str]:
    return {s.name for s in sounds}


def _filter(**query) -> list[Sound]:
    reference = query.pop("reference", SONG)
    allowed = query.pop("allowed", ALL)
    return list(library.sound_filter(query=LibraryQuery(**query), reference=reference, allowed=allowed))


def test_text_matches_every_word_as_a_prefix_of_the_name_or_a_tag():
    make_sound(1, name="Tech House Bassline 126 BPM Eb minor 1", tags=["bass", "loop"])
    make_sound(2, name="Dusty kick", tags=["drums", "lofi"])
    make_sound(3, name="Pad in C", tags=["pad", "ambient"])

    assert _names(_filter(text="tech bass")) == {"Tech House Bassline 126 BPM Eb minor 1"}
    assert _names(_filter(text="lofi")) == {"Dusty kick"}
    assert _names(_filter(text="  !!  ")) == {
        "Tech House Bassline 126 BPM Eb minor 1",
        "Dusty kick",
        "Pad in C",
    }
    assert _filter(text="violin") == []


def test_tags_and_kind_filter_by_the_sounds_tags():
    make_sound(1, name="kick loop", tags=["kick", "drums", "loop"])
    make_sound(2, name="kick hit", tags=["kick", "one-shot"])
    make_sound(3, name="bass loop", tags=["bass", "loop"])
    make_sound(4, name="kickdrum", tags=["kickdrum"])  # not the tag "kick"

    assert _names(_filter(tags=("kick",))) == {"kick loop", "kick hit"}
    assert _names(_filter(tags=("kick", "drums"))) == {"kick loop"}
    assert _names(_filter(kind="loop")) == {"kick loop", "bass loop"}
    assert _names(_filter(kind="one-shot")) == {"kick hit", "kickdrum"}


def test_bpm_range_and_the_songs_tempo_preset_with_half_and_double_time():
    for n, bpm in enumerate([62, 100, 121, 124, 130, 131, 248, None], start=1):
        make_sound(n, name=f"at {bpm}", bpm=bpm)

    assert _names(_filter(bpm_min=100, bpm_max=124)) == {"at 100", "at 121", "at 124"}
    # 124 ± 6, 248 ± 6 and 62 ± 6.
    assert _names(_filter(fits_tempo=True)) == {"at 62", "at 121", "at 124", "at 130", "at 248"}
    # Without a song tempo the preset asks nothing.
    assert len(_filter(fits_tempo=True, reference=Reference())) == 8


def test_key_same_and_mixes_read_any_spelling_of_the_keys():
    keys = ["A minor", "C major", "E minor", "D minor", "A major", "G# minor", ""]
    for n, key in enumerate(keys, start=1):
        make_sound(n, name=key or "no key", key=key)

    assert _names(_filter(key="same")) == {"A minor"}
    assert _names(_filter(key="mixes")) == {"A minor", "C major", "E minor", "D minor"}
    assert len(_filter(key="")) == 7
    flat = Reference(key="Ab minor")
    assert _names(_filter(key="same", reference=flat)) == {"G# minor"}
    assert len(_filter(key="same", reference=Reference())) == 7  # no song key: no key filter


def test_licences_offer_cc_by_nc_only_when_allowed():
    make_sound(1, name="zero", licence_url=CC0)
    make_sound(2, name="by", licence_url=BY4)
    make_sound(3, name="nc", licence_url=BYNC)
    make_sound(4, name="removed", licence_url=CC0, removed=True)
    default = library.allowed_licences(allow_noncommercial=False)

    assert _names(_filter(allowed=default)) == {"zero", "by"}
    assert _names(_filter(licences=("by-nc",), allowed=default)) == {"zero", "by"}  # not offered: ignored
    assert _names(_filter(licences=("cc0",), allowed=default)) == {"zero"}
    assert _names(_filter(licences=("by-nc",), allowed=ALL)) == {"nc"}


def test_duration_ranges():
    for n, seconds in enumerate([0.5, 2.0, 9.9, 10.0, 45.0], start=1):
        make_sound(n, name=f"{seconds}s", duration=seconds)

    assert _names(_filter(duration="short")) == {"0.5s"}
    assert _names(_filter(duration="medium")) == {"2.0s", "9.9s"}
    assert _names(_filter(duration="long")) == {"10.0s"}
    assert _names(_filter(duration="longer")) == {"45.0s"}
    assert len(_filter(duration="nonsense")) == 5


def test_facet_counts_count_instrument_tags_and_loops_in_the_filtered_set():
    make_sound(1, tags=["kick", "drums", "loop"])
    make_sound(2, tags=["kick", "one-shot"])
    make_sound(3, tags=["bass", "loop"])
    make_sound(4, tags=["bass", "loop"], licence_url=BYNC)

    facets = library_facets.facet_counts(
        library.sound_filter(query=LibraryQuery(), reference=SONG, allowed=["cc0", "by"]), selected=["piano"]
    )

    assert (facets.total, facets.loops, facets.one_shots) == (3, 2, 1)
    assert {f.tag: (f.count, f.selected) for f in facets.tags} == {
        "drums": (1, False),
        "kick": (2, False),
        "bass": (1, False),
        "piano": (0, True),  # selected: shown even with none
    }


def test_cached_facet_counts_follow_every_change_to_the_index():
    make_sound(1, tags=["kick", "loop"])
    sounds = library.sound_filter(query=LibraryQuery(), reference=SONG, allowed=ALL)
    assert library_facets.cached_facet_counts(sounds).total == 1
    assert library_facets.cached_facet_counts(sounds).total == 1  # from the cache

    second = make_sound(2, tags=["bass", "loop"])
    assert library_facets.cached_facet_counts(sounds).total == 2
    second.tags = ["bass", "one-shot"]
    second.save()
    assert library_facets.cached_facet_counts(sounds).loops == 1
    Sound.objects.filter(pk=second.pk).update(removed=True, seen_at=timezone.now())  # as a 404 does
    assert library_facets.cached_facet_counts(sounds).total == 1


def test_paginate_takes_the_total_it_is_given_and_clamps_the_page():
    for n in range(1, 4):
        make_sound(n)
    sounds = library.sound_filter(query=LibraryQuery(), reference=SONG, allowed=ALL)

    page = library.paginate(library.newest(sounds), number=9, total=60)

    assert (page.paginator.count, page.number) == (60, 3)


def _sorted(sort: str, reference: Reference = SONG) -> list[str]:
    sounds = library.sound_filter(query=LibraryQuery(), reference=reference, allowed=ALL)
    return [s.name for s in library.ranked(sounds, sort=sort, reference=reference)[:50]]


def test_sort_by_tempo_distance_counts_half_and_double_time_and_puts_unknown_last():
    for n, bpm in enumerate([90, 250, 128, None, 60], start=1):
        make_sound(n, name=f"at {bpm}", bpm=bpm)

    assert _sorted("tempo") == ["at 60", "at 250", "at 128", "at 90", "at None"]


def test_sort_newest_is_the_highest_freesound_id_first():
    make_sound(5, name="older")
    make_sound(9, name="newer")
    make_sound(7, name="middle")

    assert _sorted("newest") == ["newer", "middle", "older"]


def test_sort_by_fit_without_vectors_uses_the_tempo_and_key_parts_in_sql():
    make_sound(1, name="in tempo, same key", bpm=124, key="A minor")
    make_sound(2, name="in tempo, relative key", bpm=125, key="C major")
    make_sound(3, name="double time, same key", bpm=248, key="A minor")
    make_sound(4, name="off tempo, other key", bpm=90, key="F# major")
    make_sound(5, name="unknown", bpm=None, key="")
    make_sound(6, name="near, other key", bpm=134, key="F# major")

    # tempo × 0.25 + key × 0.15: 0.4, 0.355, 0.35, 0.2 (0.5, 0.5), ~0.15 (0.8·0.8 − 0.5 … ), 0
    assert _sorted("fit") == [
        "in tempo, same key",
        "in tempo, relative key",
        "double time, same key",
        "unknown",
        "near, other key",
        "off tempo, other key",
    ]


def _embed(sound: Sound, vector: np.ndarray) -> None:
    Sound.objects.filter(pk=sound.pk).update(
        embedding=vector_to_bytes(vector),
        tag_vector=vector_to_bytes(np.full(100, 0.1, dtype=np.float32)),
        audio_status=Sound.AudioStatus.OK,
        audio_at=timezone.now(),
    )


@pytest.fixture
def embedded():
    """A song vector and three loops in tempo and key: one sounds like it, one half-way, one not."""
    process_index_reset()
    rng = np.random.default_rng(7)
    song = rng.standard_normal(EMBEDDING_DIM).astype(np.float32)
    other = rng.standard_normal(EMBEDDING_DIM).astype(np.float32)
    close = make_sound(1, name="close", bpm=124, key="A minor", tags=["loop"])
    halfway = make_sound(2, name="halfway", bpm=124, key="A minor", tags=["loop"])
    far = make_sound(3, name="far", bpm=124, key="A minor", tags=["loop"])
    make_sound(4, name="not embedded, off tempo", bpm=90, key="F# major", tags=["loop"])
    _embed(close, song + 0.1 * other)
    _embed(halfway, song + other)
    _embed(far, other)
    yield Reference(
        tempo=124.0, key="A minor", vectors=SongVectors(song, np.full(100, 0.1, dtype=np.float32))
    )
    process_index_reset()


def test_sort_by_fit_adds_the_audio_part_for_the_candidates(embedded):
    assert _sorted("fit", embedded) == ["close", "halfway", "far", "not embedded, off tempo"]


def test_sort_by_similarity_puts_the_nearest_in_the_audio_index_first(embedded):
    assert _sorted("similar", embedded) == ["close", "halfway", "far", "not embedded, off tempo"]


def test_ranked_pages_continue_past_the_head_in_the_databases_order(embedded, monkeypatch):
    monkeypatch.setattr(library, "FIT_CANDIDATES", 2)
    sounds = library.sound_filter(query=LibraryQuery(), reference=embedded, allowed=ALL)

    ranked = library.ranked(sounds, sort="fit", reference=embedded)
    assert isinstance(ranked, library.Ranked)

    # The database's two best (equal tempo and key: the newest ids) re-ranked by sound, then the rest.
    assert len(ranked) == 4
    assert [s.name for s in ranked[0:4]] == ["halfway", "far", "close", "not embedded, off tempo"]
    assert [s.name for s in ranked[0:1] + ranked[1:3] + ranked[3:4]] == [s.name for s in ranked[0:4]]


def test_row_names_keep_their_distinguishing_tail():
    names = [f"Tech House Bassline 126 BPM Eb minor {n}" for n in (1, 2)]
    short = [library_rows.row_name(name, limit=30) for name in names]

    assert short[0] != short[1]
    assert short[0].endswith("minor 1")
    assert "…" in short[0]
    assert len(short[0]) <= 30
    assert library_rows.row_name("Short name") == "Short name"
