"""What to do to a sample so it plays in a song's tempo and key: pure maths, no audio and no Django.

A loop (a sample with a BPM) is time-stretched so a whole number of its beats lasts exactly that
many of the song's beats, at the song's tempo or the half/double reading nearest the loop's own (a
170 BPM break over an 85 BPM song stays at 170). A sample with a key is pitch-shifted by the
smallest number of semitones that lands it in the song's key or in a key that mixes with it (the
relative key, a fifth up or down): usually 0 to 3 semitones, never more than 6. A one-shot without
a key (a kick, a clap) is left as it is.

A claimed tempo is believed only when it is plausible for the loop: within LOOP_BPM_RANGE, and the
loop's length holds a whole number of its beats (within BEAT_TOLERANCE of a beat). Otherwise (a
4 s loop "at 999 BPM") the sample keeps its timing, as if it had no tempo.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from worker.music.theory import Key, fifth_down, fifth_up, parse_key, relative


def compatible_keys(song: Key, mode: str) -> list[tuple[Key, str]]:
    """The keys in `mode` that mix with the song's key, the closest relation first."""
    if mode == song.mode:
        home, relation = song, "the song's key"
    else:
        home, relation = relative(song), "the song's relative key"
    return [
        (home, relation),
        (fifth_up(home), f"a fifth above {relation}"),
        (fifth_down(home), f"a fifth below {relation}"),
    ]


def _signed(semitones: int) -> int:
    """A transposition folded into -6…+5 (going down a tritone rather than up)."""
    return (semitones + 6) % 12 - 6


@dataclass(frozen=True)
class KeyShift:
    semitones: int
    target: Key
    relation: str


def key_shift(sample: Key, song: Key) -> KeyShift:
    """The smallest transposition of the sample into a key that mixes with the song's; ties go to
    the closer relation (the song's own key first)."""
    options = [
        KeyShift(_signed(target.tonic - sample.tonic), target, relation)
        for target, relation in compatible_keys(song, sample.mode)
    ]
    return min(options, key=lambda option: abs(option.semitones))  # min() keeps the first of ties


def tempo_target(sample_bpm: float, song_bpm: float) -> float:
    """The song's tempo, or its half or double, whichever is nearest the sample's own (in ratio)."""
    readings = (song_bpm / 2, song_bpm, song_bpm * 2)
    return min(readings, key=lambda bpm: abs(math.log(bpm / sample_bpm)))


def loop_beats(duration_s: float, bpm: float) -> int:
    """How many beats the loop lasts (at least one)."""
    return max(1, round(duration_s * bpm / 60.0))


# Tempos a loop may claim, and how far (in beats) its length may be from a whole number of beats.
LOOP_BPM_RANGE = (40.0, 300.0)
BEAT_TOLERANCE = 0.25


def plausible_tempo(bpm: float, duration_s: float, *, tolerance: float = BEAT_TOLERANCE) -> bool:
    """Whether a loop of `duration_s` seconds can be at `bpm`: a tempo in LOOP_BPM_RANGE, and at
    least one beat, a whole number of them within `tolerance` of a beat."""
    low, high = LOOP_BPM_RANGE
    if not low <= bpm <= high or duration_s <= 0:
        return False
    beats = duration_s * bpm / 60.0
    return beats >= 1 - tolerance and abs(beats - round(beats)) <= tolerance


@dataclass(frozen=True)
class ConformPlan:
    """What a render does. `target_bpm` is None when the sample keeps its timing."""

    source_bpm: float | None
    target_bpm: float | None
    semitones: int
    source_key: Key | None
    target_key: Key | None
    key_relation: str
    beats: int | None  # the loop's length in beats, when it is a loop
    ignored_bpm: float | None = None  # a tempo the sample claimed that does not fit its length

    def time_ratio(self, duration_s: float) -> float:
        """New length / old length: the exact ratio that makes the loop last `beats` song beats."""
        if self.target_bpm is None or self.beats is None or duration_s <= 0:
            return 1.0
        return (self.beats * 60.0 / self.target_bpm) / duration_s

    @property
    def changes_anything(self) -> bool:
        return self.target_bpm is not None or self.semitones != 0

    @property
    def bpm_label(self) -> float | None:
        return self.target_bpm if self.target_bpm is not None else self.source_bpm

    def describe(self) -> str:
        """What was done, in words: "stretched 120 → 96 BPM, +2 semitones (to A minor, the song's key)"."""
        parts = []
        if self.target_bpm is not None and self.source_bpm is not None:
            if round(self.source_bpm, 1) == round(self.target_bpm, 1):
                parts.append(f"already at {_bpm(self.target_bpm)} BPM")
            else:
                parts.append(f"stretched {_bpm(self.source_bpm)} → {_bpm(self.target_bpm)} BPM")
        elif self.ignored_bpm is not None:
            parts.append(f"timing kept (its {_bpm(self.ignored_bpm)} BPM does not fit its length)")
        elif self.source_bpm is None:
            parts.append("timing kept (a one-shot)")
        if self.target_key is not None:
            if self.semitones:
                parts.append(f"{self.semitones:+d} semitone{'s' if abs(self.semitones) != 1 else ''}")
            else:
                parts.append("pitch kept")
            parts[-1] += f" (to {self.target_key.name}, {self.key_relation})"
        elif self.source_key is None:
            parts.append("pitch kept (no key known)")
        return ", ".join(parts)


def _bpm(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def conform_plan(
    *,
    sample_bpm: float | None,
    sample_key: str | None,
    duration_s: float,
    song_bpm: float | None,
    song_key: str | None,
) -> ConformPlan:
    """The stretch and shift for one sample against one song. Loops (with a BPM) follow the song's
    tempo; samples with a key follow its key; one-shots without a key keep their pitch. A tempo
    that does not fit the sample's length (plausible_tempo) is ignored: the timing is kept."""
    target_bpm = beats = ignored = None
    if sample_bpm and not plausible_tempo(sample_bpm, duration_s):
        sample_bpm, ignored = None, sample_bpm
    if sample_bpm and song_bpm:
        target_bpm = round(tempo_target(sample_bpm, song_bpm), 2)
        beats = loop_beats(duration_s, sample_bpm)
    source_key, song = parse_key(sample_key), parse_key(song_key)
    if source_key is not None and song is not None:
        shift = key_shift(source_key, song)
        return ConformPlan(
            sample_bpm, target_bpm, shift.semitones, source_key, shift.target, shift.relation, beats, ignored
        )
    return ConformPlan(sample_bpm, target_bpm, 0, source_key, None, "", beats, ignored)
