"""Matching samples to a song: pure functions, no database and no HTTP, so every rule is testable.

- which genres fill the five slots (the second genre joins when the top one is uncertain);
- the Freesound filter for a genre (licences, duration, loop or one-shot, BPM windows);
- which candidates fit the song, and how (in tempo, half-time or double-time; same key, relative
  key or a fifth away), ranked and then picked so that no pack or author fills the list;
- the labels a sample card shows, and the header's promise, from the same rules.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from worker.music.theory import (
    DOUBLE_TIME,
    FIFTH_DOWN,
    FIFTH_UP,
    HALF_TIME,
    IN_TEMPO,
    RELATIVE,
    SAME,
    key_mixes,
    key_relation,
    tempo_relation,
)

from .licences import Licence

SLOTS = 5  # the original project's number
MIN_BPM, MAX_BPM = 40, 250


@dataclass(frozen=True)
class GenreRules:
    """The search settings of one genre, detached from the database row."""

    slug: str
    queries: tuple[str, ...]
    licences: tuple[str, ...]
    kind: str  # "loop", "one-shot" or "any"
    min_duration: float
    max_duration: float
    bpm_tolerance: int


@dataclass(frozen=True)
class Candidate:
    freesound_id: int
    author: str
    pack: str
    licence: str
    duration: float
    tags: tuple[str, ...]
    bpm: int | None
    key: str


@dataclass(frozen=True)
class Pick:
    freesound_id: int
    genre: str
    matched_tempo: bool
    matched_key: bool


# --- Genres ---------------------------------------------------------------------------------------


def genre_slots(
    *,
    scores: dict[str, float],
    top_genre: str,
    confidence: float | None,
    mix_below: float,
    total: int = SLOTS,
) -> list[tuple[str, int]]:
    """[(genre, how many samples)]: all for the top genre, or 3 + 2 with the runner-up when unsure."""
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    top = top_genre or (ranked[0][0] if ranked else "")
    runner_up = next((slug for slug, _ in ranked if slug != top), "")
    sure = confidence is None or confidence >= mix_below
    if sure or not runner_up:
        return [(top, total)]
    second = total * 2 // 5  # 2 of 5
    return [(top, total - second), (runner_up, second)]


# --- Licences, tempo, key -------------------------------------------------------------------------


def allowed_licences(rules: GenreRules, *, allow_noncommercial: bool) -> tuple[str, ...]:
    """The genre's licences, never a non-commercial one unless the user opted in."""
    codes = [c for c in rules.licences if c in (Licence.CC0, Licence.BY)]
    if allow_noncommercial:
        codes.append(Licence.BY_NC.value)
    return tuple(dict.fromkeys(codes))


def tempo_windows(tempo: float | None, tolerance: int) -> list[tuple[int, int]]:
    """BPM ranges that fit a song: around its tempo, and around double and half of it,
    because loop BPM detection (and ours) often lands an octave off."""
    if not tempo or tempo <= 0:
        return []
    windows = []
    for centre in (round(tempo), round(tempo * 2), round(tempo / 2)):
        low, high = max(MIN_BPM, centre - tolerance), min(MAX_BPM, centre + tolerance)
        if low <= high and (low, high) not in windows:
            windows.append((low, high))
    return windows


def fits_tempo(bpm: int | None, windows: Sequence[tuple[int, int]]) -> bool:
    return bpm is not None and any(low <= bpm <= high for low, high in windows)


# --- The Freesound filter -------------------------------------------------------------------------


def licence_filter(licences: Sequence[str]) -> str:
    """The Freesound filter for any of these licences (it matches licence *names*)."""
    names = " OR ".join(f'"{Licence(code).search_name}"' for code in licences)
    return f"license:({names})"


def search_filter(
    rules: GenreRules, *, licences: Sequence[str], windows: Sequence[tuple[int, int]] = ()
) -> str:
    """Solr filter syntax as documented for /apiv2/search/ (licence *names*, ranges, OR groups)."""
    parts = [licence_filter(licences), f"duration:[{rules.min_duration:g} TO {rules.max_duration:g}]"]
    if rules.kind == "loop":
        parts.append("tag:loop")
    elif rules.kind == "one-shot":
        parts.append("(tag:one-shot OR single_event:true)")
    if windows:
        ranges = " OR ".join(f"bpm:[{low} TO {high}]" for low, high in windows)
        parts.append(f"({ranges})")
    return " ".join(parts)


def query_for(rules: GenreRules, *, turn: int) -> str:
    """One of the genre's phrases, rotating with `turn` so repeated asks see different material."""
    return rules.queries[turn % len(rules.queries)] if rules.queries else rules.slug


# --- Choosing -------------------------------------------------------------------------------------


def eligible(candidate: Candidate, rules: GenreRules, licences: Sequence[str]) -> bool:
    """Checked locally too: the index and cached searches may hold sounds today's rules exclude."""
    if candidate.licence not in licences:
        return False
    if not rules.min_duration <= candidate.duration <= rules.max_duration:
        return False
    is_loop = "loop" in candidate.tags
    return rules.kind == "any" or (is_loop if rules.kind == "loop" else not is_loop)


# Order of preference: a loop in tempo beats one at half or double time, which beats the rest; a
# loop in the same key beats one in the relative key, which beats one a fifth away.
_TEMPO_ORDER = {IN_TEMPO: 0, HALF_TIME: 1, DOUBLE_TIME: 1}
_KEY_ORDER = {SAME: 0, RELATIVE: 1, FIFTH_UP: 2, FIFTH_DOWN: 2}


def rank(
    candidates: Iterable[Candidate], *, tempo: float | None, key: str, tolerance: int, seed: str
) -> list[tuple[Candidate, bool, bool]]:
    """Best first: tempo fit (in tempo, then half/double time), then key fit (same, relative, a
    fifth away), then closeness in BPM, then a stable shuffle by `seed`. Each candidate comes with
    (in tempo, same key): only those are stored as "matched"."""
    windows = tempo_windows(tempo, tolerance)
    scored = []
    for candidate in candidates:
        tempo_fit = tempo_relation(tempo, candidate.bpm, tolerance)
        key_fit = key_relation(key, candidate.key)
        order = (
            _TEMPO_ORDER.get(tempo_fit, 2),
            _KEY_ORDER.get(key_fit, 3),
            _bpm_distance(candidate.bpm, windows),
            _shuffle(seed, candidate.freesound_id),
        )
        scored.append((order, candidate, tempo_fit == IN_TEMPO, key_fit == SAME))
    scored.sort(key=lambda item: item[0])
    return [(c, in_tempo, in_key) for _, c, in_tempo, in_key in scored]


# --- What a card and the header say -------------------------------------------------------------------


@dataclass(frozen=True)
class Fit:
    """How one sample fits the song, in the words its card shows."""

    tempo: str  # IN_TEMPO, HALF_TIME, DOUBLE_TIME, "off tempo" or "" (a tempo is unknown)
    key: str  # SAME, RELATIVE, FIFTH_UP, FIFTH_DOWN, "other key" or "" (a key is unknown)

    @property
    def in_tempo(self) -> bool:
        return self.tempo == IN_TEMPO

    @property
    def octave_off(self) -> bool:
        return self.tempo in (HALF_TIME, DOUBLE_TIME)

    @property
    def key_mixes(self) -> bool:
        return key_mixes(self.key)


def sample_fit(
    *, song_bpm: float | None, song_key: str, loop_bpm: int | None, loop_key: str, tolerance: int
) -> Fit:
    return Fit(tempo_relation(song_bpm, loop_bpm, tolerance), key_relation(song_key, loop_key))


@dataclass(frozen=True)
class Promise:
    """What the samples header says, counted from the cards below it."""

    total: int
    in_tempo: int
    octave_off: int  # half- or double-time
    same_key: int
    key_mixes: int  # same, relative or a fifth away


def samples_promise(fits: Sequence[Fit]) -> Promise:
    return Promise(
        total=len(fits),
        in_tempo=sum(f.in_tempo for f in fits),
        octave_off=sum(f.octave_off for f in fits),
        same_key=sum(f.key == SAME for f in fits),
        key_mixes=sum(f.key_mixes for f in fits),
    )


def pick_varied(
    ranked: Sequence[tuple[Candidate, bool, bool]], *, genre: str, count: int, exclude: set[int]
) -> list[Pick]:
    """Take the best, at most one per pack and per author; relax that only when there are too few."""
    for limit in (1, 2, count):
        picks = _pick_with_limit(ranked, genre=genre, count=count, exclude=exclude, limit=limit)
        if len(picks) == count:
            return picks
    return picks


def _pick_with_limit(
    ranked: Sequence[tuple[Candidate, bool, bool]], *, genre: str, count: int, exclude: set[int], limit: int
) -> list[Pick]:
    picks: list[Pick] = []
    per_group: Counter[str] = Counter()
    for candidate, in_tempo, in_key in ranked:
        if candidate.freesound_id in exclude:
            continue
        groups = [f"author:{candidate.author.lower()}"] + (
            [f"pack:{candidate.pack}"] if candidate.pack else []
        )
        if any(per_group[g] >= limit for g in groups):
            continue
        per_group.update(groups)
        picks.append(Pick(candidate.freesound_id, genre, in_tempo, in_key))
        if len(picks) == count:
            break
    return picks


def _bpm_distance(bpm: int | None, windows: Sequence[tuple[int, int]]) -> float:
    if bpm is None or not windows:
        return float("inf") if windows else 0.0
    return min(abs(bpm - (low + high) / 2) for low, high in windows)


def _shuffle(seed: str, freesound_id: int) -> str:
    return hashlib.sha256(f"{seed}:{freesound_id}".encode()).hexdigest()
