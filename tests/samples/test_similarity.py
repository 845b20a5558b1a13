"""The ranking blend, on constructed vectors: every part and the order they make together."""

from __future__ import annotations

import numpy as np
import pytest

from samples import similarity
from samples.recommend import Candidate
from samples.similarity import (
    SongVectors,
    SoundVectors,
    key_score,
    rank_by_sound,
    song_vectors,
    tempo_score,
    why_line,
)
from worker.backbone.embed import EMBEDDING_DIM, TAG_NAMES
from worker.backbone.musicnn import BackboneOutput
from worker.heads.fewshot import backbone_to_dict


def candidate(fid: int, *, bpm: int | None = 124, key: str = "", loop: bool = True) -> Candidate:
    return Candidate(fid, f"a{fid}", f"p{fid}", "cc0", 8.0, ("loop",) if loop else ("hit",), bpm, key)


def tags(**strong: float) -> np.ndarray:
    out = np.full(100, 0.01, np.float32)
    for i, name in enumerate(similarity.TAG_NAMES):
        out[i] = strong.get(name, out[i])
    return out


def test_the_tag_names_are_the_backbones():
    assert [n.split(":", 1)[1].lower() for n in TAG_NAMES] == list(similarity.TAG_NAMES)
    assert similarity.EMBEDDING_DIM == EMBEDDING_DIM


def test_the_song_vectors_are_read_from_the_stored_backbone_output():
    rng = np.random.default_rng(3)
    msd, mtt, embedding = rng.random(50), rng.random(50), rng.standard_normal(EMBEDDING_DIM)
    stored = backbone_to_dict(BackboneOutput(msd, mtt, embedding, embedding[None, :]))

    song = song_vectors(stored)

    assert song is not None
    np.testing.assert_allclose(song.embedding, embedding, atol=1e-4)
    np.testing.assert_allclose(song.tags, np.concatenate([msd, mtt]), atol=1e-5)


@pytest.mark.parametrize(
    "stored",
    [
        {},  # analysed before predictions stored it
        None,
        {"msd": [0.1] * 50, "mtt": [0.1] * 50},  # no embedding
        {"msd": [0.1] * 50, "mtt": [0.1] * 50, "embedding": [0.0] * 3},  # wrong size
        {"msd": [0.1] * 50, "mtt": ["x"] * 50, "embedding": [0.0] * 400},  # not numbers
        {"msd": [float("nan")] * 50, "mtt": [0.1] * 50, "embedding": [0.0] * 400},
    ],
)
def test_a_missing_or_damaged_backbone_output_gives_no_song_vectors(stored):
    assert song_vectors(stored) is None


@pytest.mark.parametrize(
    ("bpm", "tempo", "expected"),
    [
        (124, 124.0, 1.0),
        (248, 124.0, 0.8),  # double time: fits, but in tempo fits better (as recommend.rank has it)
        (140, 124.0, 0.4),  # 10 BPM outside the window: half of the off-tempo ceiling
        (200, 124.0, 0.0),
        (None, 124.0, 0.5),
        (124, None, 0.5),
    ],
)
def test_tempo_score(bpm, tempo, expected):
    assert tempo_score(bpm, tempo, 6) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("sample", "song", "expected"),
    [
        ("A minor", "A minor", 1.0),
        ("C major", "A minor", 0.7),  # relative major
        ("E minor", "A minor", 0.7),  # a fifth away
        ("F# major", "A minor", 0.0),
        ("", "A minor", 0.5),
        ("Bb minor", "A# minor", 1.0),
    ],
)
def test_key_score(sample, song, expected):
    assert key_score(sample, song) == expected


def test_why_line_names_the_songs_strong_tags_the_sample_shares():
    sample = tags(synth=0.8, electronic=0.6, beat=0.4, guitar=0.02)
    song = [("electronic", 0.9), ("guitar", 0.8), ("synth", 0.7), ("beat", 0.5), ("no vocals", 0.9)]
    # ordered by song strength × sample strength: synth 0.56, electronic 0.54, beat 0.2
    assert why_line(song, sample) == "sounds close: synth, electronic, beat"
    assert why_line(song, None) == ""


def test_a_loop_that_sounds_like_the_song_outranks_better_tempo_and_key_fits():
    rng = np.random.default_rng(1)
    song = rng.standard_normal(400).astype(np.float32)
    near = song + 0.2 * rng.standard_normal(400).astype(np.float32)
    others = [rng.standard_normal(400).astype(np.float32) for _ in range(6)]
    pool = [candidate(1, bpm=100, key="F# major")] + [candidate(10 + i, key="A minor") for i in range(6)]
    vectors = {1: SoundVectors(near, tags(synth=0.9))}
    vectors |= {10 + i: SoundVectors(v, tags(guitar=0.9)) for i, v in enumerate(others)}

    ranked = rank_by_sound(
        pool,
        song=SongVectors(song, tags(synth=0.8)),
        vectors=vectors,
        tempo=124.0,
        key="A minor",
        tolerance=6,
        seed="s",
        song_tags=[("synth", 0.8)],
    )

    assert ranked[0].candidate.freesound_id == 1
    assert ranked[0].why == "sounds close: synth"
    assert not ranked[0].in_tempo
    assert all(s.in_tempo and s.in_key for s in ranked[1:])


def test_sounds_not_yet_embedded_fall_back_to_tempo_and_key():
    song = SongVectors(np.ones(400, np.float32), tags())
    pool = [candidate(1, bpm=90), candidate(2, bpm=124, key="A minor"), candidate(3, bpm=124)]
    ranked = rank_by_sound(pool, song=song, vectors={}, tempo=124.0, key="A minor", tolerance=6, seed="s")
    assert [s.candidate.freesound_id for s in ranked] == [2, 3, 1]
    assert all(s.audio is None and s.why == "" for s in ranked)


def test_one_shots_are_compared_by_timbre_tags_not_the_embedding():
    rng = np.random.default_rng(2)
    song = SongVectors(rng.standard_normal(400).astype(np.float32), tags(piano=0.9, drums=0.1))
    piano_hit = SoundVectors(rng.standard_normal(400).astype(np.float32), tags(piano=0.8))
    drum_hit = SoundVectors(song.embedding.copy(), tags(drums=0.9))  # same embedding, other timbre
    pool = [
        candidate(1, loop=False, bpm=None),
        candidate(2, loop=False, bpm=None),
        candidate(3, loop=False, bpm=None),
    ]
    vectors = {1: drum_hit, 2: piano_hit, 3: SoundVectors(piano_hit.embedding, tags(violin=0.9))}
    ranked = rank_by_sound(pool, song=song, vectors=vectors, tempo=None, key="", tolerance=6, seed="s")
    assert ranked[0].candidate.freesound_id == 2
