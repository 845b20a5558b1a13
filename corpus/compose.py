"""Generated multi-instrument pieces with their true tempo, beat times and key.

A `Style` names the musical choices (tempo, meter, swing, key and mode, drum pattern, rubato,
instruments); `compose(style, seed)` returns a pretty_midi piece and its annotations. Everything is
drawn from a NumPy generator seeded by `seed`, so the same style and seed give the same notes.

Annotation conventions (those of the public tempo/key datasets):
- tempo is the notated beat (quarter note in 4/4 and 3/4): a half-time trap groove at 140 BPM is
  annotated 140 even though its snare suggests 70; a drum'n'bass break at 172 is annotated 172.
- key is tonic plus "major" or "minor": modal and bluesy material is labelled by the major/minor
  quality of its tonic chord (dorian and minor pentatonic -> minor; mixolydian and blues -> major).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pretty_midi

from worker.music.theory import NOTE_NAMES

Mode = Literal["major", "minor", "dorian", "mixolydian", "blues", "minor_pentatonic"]
DrumPattern = Literal["none", "rock", "halftime", "trap", "dnb", "four_on_floor", "ballad", "waltz"]

# Scale degrees (semitones above the tonic) that melodies are drawn from.
SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "blues": (0, 3, 4, 5, 6, 7, 10),  # major blues: both thirds, blue fifth, flat seventh
    "minor_pentatonic": (0, 3, 5, 7, 10),
}
KEY_QUALITY = {
    "major": "major",
    "minor": "minor",
    "dorian": "minor",
    "mixolydian": "major",
    "blues": "major",
    "minor_pentatonic": "minor",
}

# Chords as (root in semitones above the tonic, intervals above the root), one per bar.
MAJ = (0, 4, 7)
MIN = (0, 3, 7)
DOM7 = (0, 4, 7, 10)
MIN7 = (0, 3, 7, 10)
PROGRESSIONS: dict[str, tuple[tuple[tuple[int, tuple[int, ...]], ...], ...]] = {
    "major": (
        ((0, MAJ), (7, MAJ), (9, MIN), (5, MAJ)),
        ((0, MAJ), (5, MAJ), (7, MAJ), (0, MAJ)),
        ((0, MAJ), (9, MIN), (2, MIN), (7, DOM7)),
        ((0, MAJ), (4, MIN), (5, MAJ), (7, MAJ)),
    ),
    "minor": (
        ((0, MIN), (8, MAJ), (3, MAJ), (10, MAJ)),
        ((0, MIN), (5, MIN), (7, DOM7), (0, MIN)),
        ((0, MIN), (10, MAJ), (8, MAJ), (7, MAJ)),
        ((0, MIN), (3, MAJ), (5, MIN), (7, DOM7)),
    ),
    "dorian": (
        ((0, MIN7), (5, DOM7), (0, MIN7), (5, DOM7)),
        ((0, MIN7), (2, MIN7), (0, MIN7), (5, MAJ)),
    ),
    "mixolydian": (
        ((0, MAJ), (10, MAJ), (5, MAJ), (0, MAJ)),
        ((0, DOM7), (10, MAJ), (0, DOM7), (5, MAJ)),
    ),
    "blues": (
        (
            (0, DOM7),
            (0, DOM7),
            (0, DOM7),
            (0, DOM7),
            (5, DOM7),
            (5, DOM7),
            (0, DOM7),
            (0, DOM7),
            (7, DOM7),
            (5, DOM7),
            (0, DOM7),
            (7, DOM7),
        ),
    ),
    "minor_pentatonic": (
        ((0, MIN7), (0, MIN7), (5, MIN7), (0, MIN7)),
        ((0, MIN7), (3, MAJ), (5, MIN7), (0, MIN7)),
    ),
}

# General MIDI programs (0-based) per part.
INSTRUMENTS = {
    "piano": 0,
    "electric_piano": 4,
    "vibraphone": 11,
    "organ": 16,
    "nylon_guitar": 24,
    "steel_guitar": 25,
    "clean_guitar": 27,
    "overdriven_guitar": 29,
    "acoustic_bass": 32,
    "finger_bass": 33,
    "synth_bass": 38,
    "strings": 48,
    "trumpet": 56,
    "tenor_sax": 66,
    "flute": 73,
    "square_lead": 80,
    "warm_pad": 89,
}

# General MIDI percussion keys.
KICK, SIDE_STICK, SNARE, CLAP, CLOSED_HAT, OPEN_HAT, RIDE = 36, 37, 38, 39, 42, 46, 51


@dataclass(frozen=True)
class Style:
    name: str  # a label for reports, e.g. "rock" or "ballad"
    tempo: float  # notated beats per minute
    tonic: int  # 0 = C ... 11 = B
    mode: Mode = "major"
    meter: int = 4  # beats per bar: 3 or 4
    swing: bool = False  # off-beat eighths at 2/3 of the beat instead of 1/2
    drums: DrumPattern = "rock"
    rubato: float = 0.0  # relative tempo wander (0.06 = +-6 %), for ballads
    chords: str = "piano"
    bass: str = "finger_bass"
    melody: str | None = "square_lead"
    seconds: float = 30.0

    def __post_init__(self) -> None:
        if self.meter not in (3, 4):
            raise ValueError(f"meter must be 3 or 4 beats per bar, got {self.meter}")
        if not 20.0 <= self.tempo <= 300.0:
            raise ValueError(f"tempo {self.tempo} BPM is outside 20-300")
        if self.mode not in SCALES:
            raise ValueError(f"unknown mode {self.mode!r}")
        for part in (self.chords, self.bass, self.melody):
            if part is not None and part not in INSTRUMENTS:
                raise ValueError(f"unknown instrument {part!r}; known: {', '.join(INSTRUMENTS)}")


@dataclass(frozen=True)
class Piece:
    midi: pretty_midi.PrettyMIDI
    style: Style
    tempo: float  # annotated BPM: the median inter-beat tempo (the style's tempo unless rubato)
    beats: np.ndarray  # beat times in seconds within [0, seconds)
    downbeats: np.ndarray
    key: str  # e.g. "A minor", mir_eval's spelling
    extra: dict[str, str] = field(default_factory=dict)


def key_name(tonic: int, mode: str) -> str:
    return f"{NOTE_NAMES[tonic % 12]} {KEY_QUALITY[mode]}"


def compose(style: Style, seed: int = 0) -> Piece:
    rng = np.random.default_rng(seed)
    grid = _beat_grid(style, rng)
    midi = pretty_midi.PrettyMIDI(initial_tempo=style.tempo)
    progression = PROGRESSIONS[style.mode][int(rng.integers(len(PROGRESSIONS[style.mode])))]
    # Slow grooves (trap, drum'n'bass) change chord every two bars, as those styles tend to.
    bars_per_chord = 2 if style.drums in ("trap", "dnb", "halftime") else 1
    n_bars = int(np.ceil(len(grid.beats) / style.meter))
    chords = [progression[(bar // bars_per_chord) % len(progression)] for bar in range(n_bars)]
    midi.instruments.append(_chord_part(style, grid, chords, rng))
    midi.instruments.append(_bass_part(style, grid, chords, rng))
    if style.melody is not None:
        midi.instruments.append(_melody_part(style, grid, chords, rng))
    if style.drums != "none":
        midi.instruments.append(_drum_part(style, grid, rng))
    beats = grid.beats[grid.beats < style.seconds]
    annotated = float(np.median(60.0 / np.diff(beats))) if style.rubato else style.tempo
    return Piece(
        midi=midi,
        style=style,
        tempo=round(annotated, 2),
        beats=beats,
        downbeats=beats[:: style.meter],
        key=key_name(style.tonic, style.mode),
    )


@dataclass(frozen=True)
class _Grid:
    """Beat onsets (seconds), with one beat beyond the end so positions inside the last beat map."""

    beats: np.ndarray
    swing: bool

    def time(self, position: float) -> float:
        """Seconds at a position counted in beats; eighth offbeats land late when swung."""
        whole = int(np.floor(position))
        frac = position - whole
        if self.swing:
            # Straight 0.5 -> 2/3: stretch the first half of the beat, squeeze the second.
            frac = frac * 4 / 3 if frac < 0.5 else 2 / 3 + (frac - 0.5) * 2 / 3
        whole = min(whole, len(self.beats) - 2)
        return float(self.beats[whole] + frac * (self.beats[whole + 1] - self.beats[whole]))


def _beat_grid(style: Style, rng: np.random.Generator) -> _Grid:
    n = int(np.ceil(style.seconds * style.tempo / 60.0)) + 2
    periods = np.full(n, 60.0 / style.tempo)
    if style.rubato:
        # A slow random wander of the tempo (a smoothed walk), plus a ritardando every phrase end.
        walk = np.convolve(rng.standard_normal(n + 8), np.hanning(9) / np.hanning(9).sum(), mode="valid")[:n]
        walk = walk / max(float(np.abs(walk).max()), 1e-9)
        phrase = np.array(
            [
                1.0 + (0.5 * style.rubato if i % (4 * style.meter) >= 4 * style.meter - 2 else 0.0)
                for i in range(n)
            ]
        )
        periods = periods * (1.0 + style.rubato * walk) * phrase
    onsets = np.concatenate([[0.0], np.cumsum(periods)[:-1]]) + 0.05
    return _Grid(onsets, style.swing)


def _add(part: pretty_midi.Instrument, pitch: int, start: float, end: float, velocity: int) -> None:
    velocity = int(np.clip(velocity, 1, 127))
    part.notes.append(
        pretty_midi.Note(velocity=velocity, pitch=int(pitch), start=start, end=max(end, start + 0.03))
    )


def _chord_part(style: Style, grid: _Grid, chords: list, rng: np.random.Generator) -> pretty_midi.Instrument:
    part = pretty_midi.Instrument(program=INSTRUMENTS[style.chords], name="chords")
    base = 48 + style.tonic  # voicings around C3..B3 + tonic
    sustained = style.chords in ("strings", "warm_pad", "organ") or style.drums == "ballad"
    for bar, (root, intervals) in enumerate(chords):
        pitches = [_voice(base + root + i) for i in intervals]
        first = bar * style.meter
        if sustained:
            hits = [(0.0, float(style.meter))]
        elif style.meter == 3:
            hits = [(0.0, 1.0), (1.0, 1.0), (2.0, 1.0)]
        elif style.swing:
            hits = [(0.0, 1.5), (1.5, 1.0), (2.5, 1.5)]
        else:
            hits = [(0.0, 1.0), (1.0, 0.5), (1.5, 1.0), (2.5, 0.5), (3.0, 1.0)]
        for offset, length in hits:
            start, end = grid.time(first + offset), grid.time(first + offset + length) - 0.02
            accent = 10 if offset == 0 else 0
            for pitch in pitches:
                _add(part, pitch, start, end, 62 + accent + int(rng.integers(-6, 7)))
    return part


def _voice(pitch: int) -> int:
    """Fold a chord tone into the octave above G2 so every key sits in a similar register."""
    while pitch > 67:
        pitch -= 12
    while pitch < 55:
        pitch += 12
    return pitch


def _bass_part(style: Style, grid: _Grid, chords: list, rng: np.random.Generator) -> pretty_midi.Instrument:
    part = pretty_midi.Instrument(program=INSTRUMENTS[style.bass], name="bass")
    low = 36 + (style.tonic + 4) % 12 - 4  # tonic between G#1 and G2
    for bar, (root, intervals) in enumerate(chords):
        first = bar * style.meter
        root_pitch = low + root if low + root < 48 else low + root - 12
        fifth = root_pitch + intervals[2] if len(intervals) > 2 else root_pitch + 7
        if style.drums in ("trap", "halftime", "dnb"):
            figure = [(0.0, 2.5, root_pitch), (2.5, 1.5, root_pitch)]
        elif style.meter == 3:
            figure = [(0.0, 1.0, root_pitch), (1.0, 1.0, fifth), (2.0, 1.0, fifth)]
        elif style.drums in ("rock", "four_on_floor") and not style.swing:
            figure = [(b * 0.5, 0.45, root_pitch if b % 4 != 3 else fifth) for b in range(8)]
        else:
            figure = [
                (0.0, 1.0, root_pitch),
                (1.0, 1.0, fifth),
                (2.0, 1.0, root_pitch + 12),
                (3.0, 1.0, fifth),
            ]
        for offset, length, pitch in figure:
            start, end = grid.time(first + offset), grid.time(first + offset + length) - 0.02
            _add(part, pitch, start, end, 80 + int(rng.integers(-8, 9)))
    return part


def _melody_part(style: Style, grid: _Grid, chords: list, rng: np.random.Generator) -> pretty_midi.Instrument:
    assert style.melody is not None
    part = pretty_midi.Instrument(program=INSTRUMENTS[style.melody], name="melody")
    scale = SCALES[style.mode]
    tonic = 72 + (style.tonic if style.tonic < 6 else style.tonic - 12)  # tonic near C5
    ladder = sorted({tonic + o * 12 + d for o in (-1, 0, 1) for d in scale})
    index = ladder.index(tonic)
    slow = style.drums in ("ballad", "trap", "halftime") or style.tempo > 150
    for bar, (root, intervals) in enumerate(chords):
        first = bar * style.meter
        position = 0.0
        chord_pcs = {(style.tonic + root + i) % 12 for i in intervals}
        while position < style.meter:
            length = float(rng.choice([1.0, 2.0]) if slow else rng.choice([0.5, 0.5, 1.0, 1.0, 1.5]))
            length = min(length, style.meter - position)
            if position == 0.0 or rng.random() < 0.35:
                # Strong beats and some others land on a chord tone, the rest step through the scale.
                candidates = [i for i, p in enumerate(ladder) if p % 12 in chord_pcs and abs(i - index) <= 4]
                index = int(rng.choice(candidates)) if candidates else index
            else:
                index = int(np.clip(index + rng.choice([-2, -1, 1, 2]), 2, len(ladder) - 3))
            if rng.random() > 0.12:  # occasional rests
                start = grid.time(first + position)
                end = grid.time(first + position + length) - 0.03
                _add(part, ladder[index], start, end, 74 + int(rng.integers(-10, 11)))
            position += length
    return part


def _drum_hits(style: Style) -> list[tuple[float, int, int]]:
    """(beat offset within the bar, GM key, velocity) for one bar of the style's pattern."""
    m = style.meter
    pattern = "waltz" if m == 3 and style.drums in ("rock", "four_on_floor") else style.drums
    eighths = [(i * 0.5, CLOSED_HAT, 70 if i % 2 == 0 else 55) for i in range(2 * m)]
    if pattern == "rock":
        return eighths + [
            (0.0, KICK, 100),
            (2.0, KICK, 95),
            (2.5, KICK, 80),
            (1.0, SNARE, 100),
            (3.0, SNARE, 100),
        ]
    if pattern == "four_on_floor":
        return (
            [(float(b), KICK, 105) for b in range(4)]
            + [(b + 0.5, OPEN_HAT, 70) for b in range(4)]
            + [(1.0, CLAP, 95), (3.0, CLAP, 95)]
        )
    if pattern == "halftime":  # boom-bap in half time: snare on beat 3 only
        return eighths + [(0.0, KICK, 105), (1.5, KICK, 85), (2.0, SNARE, 105), (3.5, KICK, 80)]
    if pattern == "trap":  # sixteenth hats with a roll, 808-ish kick, snare/clap on 3
        hats = [(i * 0.25, CLOSED_HAT, 60 if i % 2 else 75) for i in range(4 * m)]
        roll = [(3.5 + i / 12, CLOSED_HAT, 55) for i in range(6)] if m == 4 else []
        return hats + roll + [(0.0, KICK, 110), (0.75, KICK, 90), (2.0, CLAP, 105), (2.0, SNARE, 90)]
    if pattern == "dnb":  # two-step break: kick 1 and the and-of-2, snare 2 and 4
        ride = [(i * 0.5, RIDE, 60) for i in range(2 * m)]
        return ride + [(0.0, KICK, 110), (2.5, KICK, 100), (1.0, SNARE, 110), (3.0, SNARE, 110)]
    if pattern == "ballad":
        return [(0.0, KICK, 70), (2.0 if m == 4 else 1.0, SIDE_STICK, 60)] + [
            (float(b), RIDE, 45) for b in range(m)
        ]
    if pattern == "waltz":
        return [(0.0, KICK, 100), (1.0, SNARE, 75), (2.0, SNARE, 75)] + [
            (float(b), CLOSED_HAT, 60) for b in range(3)
        ]
    raise ValueError(f"unknown drum pattern {style.drums!r}")


def _drum_part(style: Style, grid: _Grid, rng: np.random.Generator) -> pretty_midi.Instrument:
    part = pretty_midi.Instrument(program=0, is_drum=True, name="drums")
    hits = _drum_hits(style)
    n_bars = int(np.ceil((len(grid.beats) - 1) / style.meter))
    for bar in range(n_bars):
        first = bar * style.meter
        for offset, key, velocity in hits:
            if offset >= style.meter or first + offset >= len(grid.beats) - 1:
                continue
            start = grid.time(first + offset) + float(rng.normal(0.0, 0.004))
            _add(part, key, max(start, 0.0), start + 0.1, velocity + int(rng.integers(-6, 7)))
        if bar % 8 == 0 and bar > 0 and style.drums not in ("ballad", "none"):
            _add(part, 49, grid.time(first), grid.time(first) + 0.5, 90)  # crash at phrase starts
    return part
