"""Small music theory the analysis, the predictions and the samples need: keys, their relatives,
tempo relations, and what a confidence means in words. Pure functions, no Django.

Keys are named the way the analysis names them ("A minor", "Eb major": sharps for C#, F#, flats
for Eb, Ab, Bb); any spelling ("Bb Minor", "a# min", "Am") is read.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_PITCH = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_KEY_PATTERN = re.compile(r"\s*([A-Ga-g])\s*([#♯b♭]?)\s*(major|minor|maj|min|m)?\s*", flags=re.IGNORECASE)

MAJOR, MINOR = "major", "minor"

# How a key relates to another, as DJ and producer tools name it (the Camelot wheel's neighbours).
SAME, RELATIVE, PARALLEL, FIFTH_UP, FIFTH_DOWN, OTHER = (
    "same key",
    "relative key",
    "parallel key",
    "a fifth up",
    "a fifth down",
    "other key",
)


@dataclass(frozen=True)
class Key:
    tonic: int  # pitch class, C = 0
    mode: str  # MAJOR or MINOR

    @property
    def name(self) -> str:
        return f"{NOTE_NAMES[self.tonic]} {self.mode}"

    @property
    def short(self) -> str:
        """The spelling producers put in file names: "Am", "F#m", "C"."""
        return NOTE_NAMES[self.tonic] + ("m" if self.mode == MINOR else "")

    def __str__(self) -> str:
        return self.name


@functools.lru_cache(maxsize=512)  # a pure function of a few dozen spellings; the library ranks hundreds
def parse_key(text: str | None) -> Key | None:
    """ "Bb Minor" → Key(10, minor); "Am" → A minor; a bare note is major; nonsense → None."""
    match = _KEY_PATTERN.fullmatch(text or "")
    if not match:
        return None
    letter, accidental, mode = match.groups()
    tonic = _PITCH[letter.upper()] + {"#": 1, "♯": 1, "b": -1, "♭": -1}.get(accidental, 0)
    is_minor = mode is not None and (mode.lower() in ("minor", "min") or mode == "m")
    return Key(tonic % 12, MINOR if is_minor else MAJOR)


def key_name(text: str | None) -> str:
    """The canonical spelling of a key, or "" when it is not one."""
    key = parse_key(text)
    return key.name if key else ""


def relative(key: Key) -> Key:
    """A minor ↔ C major: the same notes, another home."""
    return Key((key.tonic + 3) % 12, MAJOR) if key.mode == MINOR else Key((key.tonic + 9) % 12, MINOR)


def parallel(key: Key) -> Key:
    """A minor ↔ A major: the same home, the third (and sixth) changed."""
    return Key(key.tonic, MAJOR if key.mode == MINOR else MINOR)


def fifth_up(key: Key) -> Key:
    return Key((key.tonic + 7) % 12, key.mode)


def fifth_down(key: Key) -> Key:
    return Key((key.tonic + 5) % 12, key.mode)


def related_keys(key: Key) -> list[tuple[Key, str]]:
    """The keys an estimate most often confuses with this one, and the ones that mix with it."""
    return [
        (relative(key), RELATIVE),
        (parallel(key), PARALLEL),
        (fifth_up(key), FIFTH_UP),
        (fifth_down(key), FIFTH_DOWN),
    ]


def key_relation(song: str | None, loop: str | None) -> str:
    """How a loop's key sits with the song's: SAME, RELATIVE, FIFTH_UP/FIFTH_DOWN (they mix, as
    on the Camelot wheel) or OTHER; "" when either key is unknown. The parallel key does not mix
    (its third clashes), so it is OTHER here."""
    a, b = parse_key(song), parse_key(loop)
    if a is None or b is None:
        return ""
    if a == b:
        return SAME
    if b == relative(a):
        return RELATIVE
    if b == fifth_up(a):
        return FIFTH_UP
    if b == fifth_down(a):
        return FIFTH_DOWN
    return OTHER


def key_mixes(relation: str) -> bool:
    return relation in (SAME, RELATIVE, FIFTH_UP, FIFTH_DOWN)


# --- Tempo -------------------------------------------------------------------------------------------

IN_TEMPO, HALF_TIME, DOUBLE_TIME, OFF_TEMPO = "in tempo", "half-time", "double-time", "off tempo"


def tempo_relation(song_bpm: float | None, loop_bpm: float | None, tolerance: float) -> str:
    """IN_TEMPO within `tolerance` BPM of the song; HALF_TIME when twice the loop's tempo is within
    it (the same beat, counted in halves), DOUBLE_TIME when half of it is; OFF_TEMPO otherwise;
    "" when either tempo is unknown."""
    if not song_bpm or not loop_bpm or song_bpm <= 0 or loop_bpm <= 0:
        return ""
    if abs(loop_bpm - song_bpm) <= tolerance:
        return IN_TEMPO
    if abs(loop_bpm * 2 - song_bpm) <= tolerance:
        return HALF_TIME
    if abs(loop_bpm / 2 - song_bpm) <= tolerance:
        return DOUBLE_TIME
    return OFF_TEMPO


def octave_alternative(bpm: float) -> float:
    """The tempo an estimate most likely confused this one with: double a slow one, halve a fast one
    (beat trackers land an octave off far more often than anywhere else)."""
    return bpm * 2 if bpm < 100 else bpm / 2


# --- Confidence in words --------------------------------------------------------------------------

SURE, FAIRLY_SURE, UNSURE = "sure", "fairly sure", "unsure"


def confidence_word(confidence: float | None, *, sure_at: float, unsure_below: float) -> str:
    """A musician's word for a score in [0, 1]; "" when there is none."""
    if confidence is None:
        return ""
    if confidence >= sure_at:
        return SURE
    if confidence < unsure_below:
        return UNSURE
    return FAIRLY_SURE
