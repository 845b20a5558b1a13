"""Ranking samples by how they sound next to the song: a documented blend, pure functions.

score = AUDIO_WEIGHT × audio + TEMPO_WEIGHT × tempo + KEY_WEIGHT × key, each part in [0, 1]:

- audio: cosine similarity between the song and the sample, in the backbone's terms, rescaled over
  the pool being ranked so that its closest sample scores 1 and its farthest 0 (musicnn vectors of
  any two pieces of music have cosines between about 0.8 and 1, so the raw value would hardly move
  the sum). Loops are compared by the 400-value embedding (texture, groove, production); one-shots
  by the timbre tags only (instruments and sound sources), because a single hit has no groove to
  compare. Raw cosine, not centred on the pool's mean: bench/similarity_quality.py found the song's
  own loop in the top 3 for 20 of 24 songs raw and 14 of 24 centred. A sample not yet embedded
  gets 0.5 (no evidence either way), so the older rules (tempo, key) still order it.
- tempo: 1 in tempo (the song's BPM ± the genre's tolerance), OCTAVE_TEMPO at half or double
  time (main's `recommend.rank` prefers in tempo too), and off tempo at most OCTAVE_TEMPO, falling
  linearly to 0 at TEMPO_FALLOFF BPM outside the nearest window; 0.5 when the sample or the song
  has no BPM.
- key: 1 for the same key, 0.7 for one that mixes with it (relative major/minor, a fifth away:
  `worker.music.theory.key_relation`, as the cards say), 0 otherwise; 0.5 when either key is unknown.

`in_tempo` and `in_key` (stored as a recommendation's "matched") mean what `recommend.rank` means
by them: in tempo, same key; the cards' labels are worked out again from `worker.music.theory` on display.

Variety (at most one sample per pack and per author) is applied afterwards by
`recommend.pick_varied`, unchanged. Without a song embedding, or when no candidate is embedded yet,
the caller keeps `recommend.rank`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from worker.backbone.embed import EMBEDDING_DIM
from worker.backbone.musicnn import MSD_TAGS, MTT_TAGS
from worker.music.theory import IN_TEMPO, OFF_TEMPO, SAME, key_mixes, key_relation, tempo_relation

from .audio_index import unit
from .recommend import Candidate, _bpm_distance, _shuffle, tempo_windows

AUDIO_WEIGHT = 0.6
TEMPO_WEIGHT = 0.25
KEY_WEIGHT = 0.15
TEMPO_FALLOFF = 20.0
OCTAVE_TEMPO = 0.8
UNKNOWN = 0.5
RELATED_KEY = 0.7
WHY_TAGS = 3
WHY_MIN_PROBABILITY = 0.1

# The taggers' tag names, lower-cased, in the order of worker.backbone.embed.TAG_NAMES (MSD 50, then MTT 50).
TAG_NAMES = tuple(t.lower() for t in (*MSD_TAGS, *MTT_TAGS))
# Tags that name a sound source rather than a genre or a mood: what a one-shot is compared by.
TIMBRE_TAGS = frozenset(
    {
        "guitar", "strings", "drums", "piano", "beat", "violin", "vocal", "synth", "harpsichord", "flute",
        "sitar", "choir", "voice", "beats", "harp", "cello", "vocals", "singing", "electronic", "electro",
        "acoustic", "female vocalists", "male vocalists", "female vocalist", "female", "male", "opera",
    }
)  # fmt: skip
TIMBRE_INDEX = np.array([i for i, t in enumerate(TAG_NAMES) if t in TIMBRE_TAGS])
# Never offered as a reason: they say what the sound is not, or only when it was made.
_NOT_REASONS = frozenset({"no vocals", "no vocal", "no voice", "00s", "60s", "70s", "80s", "90s"})


@dataclass(frozen=True)
class SongVectors:
    embedding: np.ndarray  # (400,)
    tags: np.ndarray  # (100,)


def song_vectors(backbone: Mapping[str, Sequence[float]] | None) -> SongVectors | None:
    """The song's vectors from `Prediction.backbone_output` (worker.heads.fewshot.backbone_to_dict:
    "msd", "mtt", "embedding", the clip's means, as stored for the few-shot head); None when the
    prediction has none (analysed before it was stored) or it is damaged."""
    if not backbone:
        return None
    try:
        embedding = np.asarray(backbone["embedding"], dtype=np.float32)
        tags = np.concatenate([np.asarray(backbone[name], dtype=np.float32) for name in ("msd", "mtt")])
    except (KeyError, TypeError, ValueError):
        return None
    if embedding.shape != (EMBEDDING_DIM,) or tags.shape != (len(TAG_NAMES),):
        return None
    if not (np.isfinite(embedding).all() and np.isfinite(tags).all()):
        return None
    return SongVectors(embedding, tags)


@dataclass(frozen=True)
class SoundVectors:
    embedding: np.ndarray
    tags: np.ndarray


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    score: float
    audio: float | None  # None: not embedded yet
    in_tempo: bool
    in_key: bool
    why: str


# --- The parts ---------------------------------------------------------------------------------------


def audio_scores(song: np.ndarray, sounds: np.ndarray) -> np.ndarray:
    """Cosine of each row of `sounds` with `song`, rescaled to [0, 1] over the rows (closest 1,
    farthest 0; all UNKNOWN when they are equally close)."""
    if len(sounds) == 0:
        return np.zeros(0, dtype=np.float32)
    cosine = unit(sounds) @ unit(song[None, :])[0]
    low, high = float(cosine.min()), float(cosine.max())
    if high - low < 1e-6:
        return np.full(len(cosine), UNKNOWN, dtype=np.float32)
    return ((cosine - low) / (high - low)).astype(np.float32)


def tempo_score(bpm: int | None, tempo: float | None, tolerance: int) -> float:
    relation = tempo_relation(tempo, bpm, tolerance)
    if not relation:
        return UNKNOWN
    if relation != OFF_TEMPO:
        return 1.0 if relation == IN_TEMPO else OCTAVE_TEMPO
    assert bpm is not None  # a relation is only known with both tempos
    outside = min(max(low - bpm, bpm - high) for low, high in tempo_windows(tempo, tolerance))
    return OCTAVE_TEMPO * max(0.0, 1.0 - outside / TEMPO_FALLOFF)


def key_score(sample_key: str, song_key: str) -> float:
    relation = key_relation(song_key, sample_key)
    if not relation:
        return UNKNOWN
    if relation == SAME:
        return 1.0
    return RELATED_KEY if key_mixes(relation) else 0.0


def why_line(song_tags: Sequence[tuple[str, float]], sound_tags: np.ndarray | None) -> str:
    """ "sounds close: synth, electronic, beat": the song's strongest tags the sample shares."""
    if sound_tags is None or not song_tags:
        return ""
    strength = _tag_strengths(sound_tags)
    shared = [
        (name, song_p * strength.get(name.lower(), 0.0))
        for name, song_p in song_tags
        if name.lower() not in _NOT_REASONS and strength.get(name.lower(), 0.0) >= WHY_MIN_PROBABILITY
    ]
    shared.sort(key=lambda item: item[1], reverse=True)
    names = list(dict.fromkeys(name.lower() for name, _ in shared))[:WHY_TAGS]
    return f"sounds close: {', '.join(names)}" if names else ""


def _tag_strengths(tags: np.ndarray) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, p in zip(TAG_NAMES, tags.tolist(), strict=False):
        out[name] = max(float(p), out.get(name, 0.0))
    return out


def song_top_tags(tags: np.ndarray, k: int = 8) -> list[tuple[str, float]]:
    strength = sorted(_tag_strengths(tags).items(), key=lambda item: item[1], reverse=True)
    return [(name, p) for name, p in strength if name not in _NOT_REASONS][:k]


# --- The blend ---------------------------------------------------------------------------------------


def rank_by_sound(
    candidates: Sequence[Candidate],
    *,
    song: SongVectors,
    vectors: Mapping[int, SoundVectors],
    tempo: float | None,
    key: str,
    tolerance: int,
    seed: str,
    song_tags: Sequence[tuple[str, float]] = (),
    explain: bool = True,
) -> list[Scored]:
    """Best first by the blend; ties broken by a shuffle stable for `seed`, like `recommend.rank`.
    `explain=False` leaves each `why` empty (the library ranks hundreds and shows no reasons)."""
    audio = _audio_parts(candidates, song=song, vectors=vectors)
    windows = tempo_windows(tempo, tolerance)
    reasons = song_tags or song_top_tags(song.tags)  # the song's, the same for every candidate
    scored = []
    for candidate in candidates:
        part = audio.get(candidate.freesound_id)
        t = tempo_score(candidate.bpm, tempo, tolerance)
        k = key_score(candidate.key, key)
        total = AUDIO_WEIGHT * (UNKNOWN if part is None else part) + TEMPO_WEIGHT * t + KEY_WEIGHT * k
        in_tempo = tempo_relation(tempo, candidate.bpm, tolerance) == IN_TEMPO
        in_key = key_relation(key, candidate.key) == SAME
        sound = vectors.get(candidate.freesound_id)
        why = why_line(reasons, None if sound is None else sound.tags) if explain else ""
        scored.append(Scored(candidate, round(float(total), 6), part, in_tempo, in_key, why))
    scored.sort(
        key=lambda s: (
            -s.score,
            _bpm_distance(s.candidate.bpm, windows),
            _shuffle(seed, s.candidate.freesound_id),
        )
    )
    return scored


def _audio_parts(
    candidates: Sequence[Candidate], *, song: SongVectors, vectors: Mapping[int, SoundVectors]
) -> dict[int, float]:
    """Loops by embedding, one-shots by timbre tags; each group rescaled over its own members."""
    loops = [c for c in candidates if c.freesound_id in vectors and "loop" in c.tags]
    shots = [c for c in candidates if c.freesound_id in vectors and "loop" not in c.tags]
    out: dict[int, float] = {}
    if loops:
        matrix = np.stack([vectors[c.freesound_id].embedding for c in loops])
        out |= dict(
            zip((c.freesound_id for c in loops), audio_scores(song.embedding, matrix).tolist(), strict=True)
        )
    if shots:
        matrix = np.stack([vectors[c.freesound_id].tags[TIMBRE_INDEX] for c in shots])
        scores = audio_scores(song.tags[TIMBRE_INDEX], matrix)
        out |= dict(zip((c.freesound_id for c in shots), scores.tolist(), strict=True))
    return out
