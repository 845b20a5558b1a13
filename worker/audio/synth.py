"""Synthetic test signals with known properties (tempo, key, timbre) for tests, benchmarks and demos.

Nothing here is music a listener would mistake for a record; it gives the pipeline inputs whose
right answers are known without shipping audio files.
"""

from __future__ import annotations

import numpy as np

SR = 22_050
NOTE_INDEX = {
    "C": 0,
    "C#": 1,
    "D": 2,
    "Eb": 3,
    "E": 4,
    "F": 5,
    "F#": 6,
    "G": 7,
    "Ab": 8,
    "A": 9,
    "Bb": 10,
    "B": 11,
}


def midi_hz(note: int) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12.0)


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def tone(freq: float, seconds: float, sr: int = SR, harmonics: int = 6, decay: float = 3.0) -> np.ndarray:
    """A plucked/struck note: decaying harmonics, each weaker and shorter than the one below."""
    t = np.arange(int(seconds * sr)) / sr
    out = np.zeros_like(t)
    for h in range(1, harmonics + 1):
        if freq * h < sr / 2:
            out += np.sin(2 * np.pi * freq * h * t) * np.exp(-decay * h * t) / h
    attack = np.minimum(t / 0.005, 1.0)
    return (out * attack).astype(np.float32)


def click_track(bpm: float, seconds: float, sr: int = SR) -> np.ndarray:
    """Short 1 kHz blips on every beat, accented on the first of four."""
    out = np.zeros(int(seconds * sr), dtype=np.float32)
    blip = tone(1000.0, 0.03, sr, harmonics=2, decay=80.0)
    for i, start in enumerate(np.arange(0.0, seconds, 60.0 / bpm)):
        k = int(start * sr)
        seg = blip[: len(out) - k] * (1.0 if i % 4 == 0 else 0.6)
        out[k : k + len(seg)] += seg
    return out


def chord_notes(root: str, quality: str, octave: int = 4) -> list[int]:
    base = 12 * (octave + 1) + NOTE_INDEX[root]
    third = 4 if quality == "major" else 3
    return [base - 12, base, base + third, base + 7]


def chord_progression(chords: list[tuple[str, str]], seconds: float, sr: int = SR) -> np.ndarray:
    """Chords strummed in turn, one per second, looping until `seconds`."""
    out = np.zeros(int(seconds * sr), dtype=np.float32)
    n = int(np.ceil(seconds))
    for i in range(n):
        root, quality = chords[i % len(chords)]
        k = i * sr
        for note in chord_notes(root, quality):
            seg = tone(midi_hz(note), 1.2, sr, decay=1.5)[: len(out) - k]
            out[k : k + len(seg)] += 0.2 * seg
    return out


def piano_piece(seconds: float, sr: int = SR, seed: int = 0) -> np.ndarray:
    """A C-major melody over left-hand chords, with piano-like decaying partials."""
    rng = _rng(seed)
    out = chord_progression([("C", "major"), ("A", "minor"), ("F", "major"), ("G", "major")], seconds, sr)
    scale = [60, 62, 64, 65, 67, 69, 71, 72, 74, 76]
    for start in np.arange(0.0, seconds - 0.5, 0.25):
        if rng.random() < 0.8:
            seg = tone(midi_hz(int(rng.choice(scale))), 0.8, sr, harmonics=8, decay=2.5)
            k = int(start * sr)
            seg = seg[: len(out) - k]
            out[k : k + len(seg)] += 0.25 * seg
    return _normalise(out)


def drums_and_bass(seconds: float, bpm: float = 124.0, sr: int = SR, seed: int = 0) -> np.ndarray:
    """Four-on-the-floor kick, off-beat hats, backbeat snare and a sawtooth bass line."""
    rng = _rng(seed)
    n = int(seconds * sr)
    out = np.zeros(n, dtype=np.float32)
    beat = 60.0 / bpm
    t = np.arange(int(0.25 * sr)) / sr
    kick = np.sin(2 * np.pi * (50 + 100 * np.exp(-30 * t)) * t) * np.exp(-12 * t)
    snare = rng.standard_normal(len(t)) * np.exp(-20 * t) * 0.5
    hat = np.diff(rng.standard_normal(len(t) + 1)) * np.exp(-60 * t) * 0.15
    bass_notes = [36, 36, 43, 41]
    for i, start in enumerate(np.arange(0.0, seconds, beat)):
        _add(out, kick, start, sr)
        _add(out, hat, start + beat / 2, sr)
        if i % 2 == 1:
            _add(out, snare, start, sr)
        f = midi_hz(bass_notes[(i // 4) % 4])
        tb = np.arange(int(beat * sr)) / sr
        saw = 2 * ((f * tb) % 1.0) - 1
        _add(out, 0.25 * saw * np.exp(-3 * tb), start, sr)
    return _normalise(out)


def _add(out: np.ndarray, seg: np.ndarray, start_s: float, sr: int) -> None:
    k = int(start_s * sr)
    if k < len(out):
        seg = seg[: len(out) - k]
        out[k : k + len(seg)] += seg.astype(np.float32)


def _normalise(x: np.ndarray, peak: float = 0.8) -> np.ndarray:
    return (x * (peak / max(float(np.abs(x).max()), 1e-9))).astype(np.float32)


def noise(
    seconds: float, colour: str = "pink", sr: int = SR, seed: int = 0, level: float = 0.3
) -> np.ndarray:
    """White, pink (1/f power) or brown (1/f^2) noise at an RMS of `level`: audio that is not music."""
    exponent = {"white": 0.0, "pink": 0.5, "brown": 1.0}[colour]
    n = int(seconds * sr)
    spectrum = np.fft.rfft(_rng(seed).standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / sr)
    spectrum *= 1.0 / np.maximum(freqs, 20.0) ** exponent  # amplitude ~ f^-exponent, flat below 20 Hz
    out = np.fft.irfft(spectrum, n)
    return (out * (level / max(float(np.sqrt(np.mean(out**2))), 1e-12))).astype(np.float32)
