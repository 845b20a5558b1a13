"""The demo's audio, composed in code: catalog tracks are corpus.compose pieces; loops keep some parts
of a composed piece (the drums, the bass, the chords...) for a whole number of bars, with General MIDI
programs of our choosing; one-shots are one note, chord or drum hit.

FluidSynth starts in a fraction of a second but renders minutes of music in one, so many clips are
laid end to end in one MIDI file, rendered in one call (corpus.render) and cut apart again.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pretty_midi
import soundfile as sf

from corpus.compose import Style, compose
from corpus.render import render_wav

SR = 22_050
GAP = 2.5  # seconds of silence after each clip in a batch: room for the release of pads and strings
# pretty_midi gives each instrument its own channel, 15 of which are melodic; one more is the drums.
MAX_PROGRAMS_PER_BATCH = 14
_GRID_OFFSET = 0.05  # corpus.compose starts its first beat this late
PEAK = 0.89  # -1 dBFS


@dataclass(frozen=True)
class Clip:
    """A piece of MIDI starting at 0 and how much of its audio to keep."""

    midi: pretty_midi.PrettyMIDI
    seconds: float
    fade: float = 0.01  # fade-out at the end, in seconds

    def programs(self) -> set[int]:
        return {i.program for i in self.midi.instruments if not i.is_drum}


def track_clip(style: Style, seed: int) -> Clip:
    """A catalog preview: a composed piece, faded out over its last two seconds."""
    return Clip(compose(style, seed).midi, style.seconds, fade=2.0)


def loop_clip(
    style: Style, seed: int, *, parts: Sequence[str], bars: int, programs: Mapping[str, int] | None = None
) -> Clip:
    """`bars` bars of the chosen parts of a composed piece, cut on the beat so they loop."""
    seconds = loop_seconds(style, bars)
    piece = compose(replace(style, seconds=seconds + 2 * 60.0 / style.tempo), seed)
    midi = pretty_midi.PrettyMIDI(initial_tempo=style.tempo)
    for instrument in piece.midi.instruments:
        if instrument.name not in parts:
            continue
        if programs and instrument.name in programs:
            instrument.program = programs[instrument.name]
        instrument.notes = [
            _shifted(n, seconds) for n in instrument.notes if n.start - _GRID_OFFSET < seconds
        ]
        midi.instruments.append(instrument)
    return Clip(midi, seconds)


def loop_seconds(style: Style, bars: int) -> float:
    return bars * style.meter * 60.0 / style.tempo


def _shifted(note: pretty_midi.Note, length: float) -> pretty_midi.Note:
    start = max(note.start - _GRID_OFFSET, 0.0)
    end = min(note.end - _GRID_OFFSET, length)
    return pretty_midi.Note(velocity=note.velocity, pitch=note.pitch, start=start, end=max(end, start + 0.03))


def one_shot_clip(
    *, program: int, pitches: Iterable[int], seconds: float, drum: bool = False, velocity: int = 100
) -> Clip:
    """One note, chord or drum hit held for most of `seconds`, then left to ring out."""
    instrument = pretty_midi.Instrument(program=0 if drum else program, is_drum=drum)
    for pitch in pitches:
        instrument.notes.append(pretty_midi.Note(velocity, pitch, 0.0, 0.15 if drum else seconds * 0.7))
    midi = pretty_midi.PrettyMIDI()
    midi.instruments.append(instrument)
    return Clip(midi, seconds, fade=min(0.3, seconds / 4))


# --- Batches ------------------------------------------------------------------------------------


def batches(clips: Sequence[tuple[str, Clip]]) -> list[list[tuple[str, Clip]]]:
    """Split clips into groups that fit one MIDI file's channels (each program needs its own)."""
    groups: list[list[tuple[str, Clip]]] = []
    programs: set[int] = set()
    for name, clip in clips:
        wanted = programs | clip.programs()
        if groups and len(wanted) <= MAX_PROGRAMS_PER_BATCH:
            groups[-1].append((name, clip))
            programs = wanted
        else:
            groups.append([(name, clip)])
            programs = clip.programs()
    return groups


def _laid_end_to_end(clips: Sequence[Clip]) -> tuple[pretty_midi.PrettyMIDI, list[float]]:
    merged = pretty_midi.PrettyMIDI()
    by_program: dict[tuple[int, bool], pretty_midi.Instrument] = {}
    starts, at = [], 0.0
    for clip in clips:
        starts.append(at)
        for instrument in clip.midi.instruments:
            key = (instrument.program, instrument.is_drum)
            target = by_program.setdefault(key, pretty_midi.Instrument(key[0], is_drum=key[1]))
            target.notes += [
                pretty_midi.Note(n.velocity, n.pitch, n.start + at, n.end + at) for n in instrument.notes
            ]
        at += clip.seconds + GAP
    merged.instruments = list(by_program.values())
    return merged, starts


def render_batch(clips: Sequence[tuple[Path, Clip]]) -> None:
    """Render the clips in one FluidSynth run and write each, cut, levelled and faded, as an MP3."""
    midi, starts = _laid_end_to_end([clip for _, clip in clips])
    with tempfile.TemporaryDirectory(prefix="demo-render-") as tmp:
        wav = render_wav(midi, Path(tmp) / "batch.wav", sample_rate=SR)
        audio, sr = sf.read(wav, dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    for (path, clip), start in zip(clips, starts, strict=True):
        first = int(round(start * sr))
        piece = mono[first : first + int(round(clip.seconds * sr))]
        piece = np.pad(piece, (0, max(0, int(round(clip.seconds * sr)) - len(piece))))
        write_mp3(path, _levelled(piece, clip.fade, sr), sr)


def _levelled(audio: np.ndarray, fade: float, sr: int) -> np.ndarray:
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    out = audio * (PEAK / peak) if peak > 1e-4 else audio
    n = min(len(out), int(fade * sr))
    if n:
        out[-n:] *= np.linspace(1.0, 0.0, n, dtype=np.float32)
    return out.astype(np.float32)


def write_mp3(path: Path, audio: np.ndarray, sr: int) -> None:
    """Written beside its final name and renamed, so a server never hands out half a file (and two
    processes rendering the same clip at once each write their own partial file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".part")
    os.close(handle)
    try:
        sf.write(partial, audio, sr, format="MP3")
        Path(partial).replace(path)
    finally:
        Path(partial).unlink(missing_ok=True)
