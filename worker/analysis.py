"""Tempo (librosa beat tracking) and musical key (chroma against Krumhansl-Kessler key profiles)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HOP_LENGTH = 256  # at 16 kHz: 62.5 onset frames per second, fine enough for a ~1 BPM tempo grid
KEY_N_FFT = 4096  # 3.9 Hz bins at 16 kHz: separates semitones down to about 70 Hz
NOTES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
# Krumhansl & Kessler (1982) probe-tone ratings, tonic first.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
MIN_KEY_CORRELATION = 0.3  # below this the chroma is too flat (drums, noise) to name a key


@dataclass(frozen=True)
class Tempo:
    bpm: float | None
    confidence: float  # 0..1: onset autocorrelation at the beat period, relative to lag 0


@dataclass(frozen=True)
class Key:
    name: str | None  # e.g. "A minor"
    confidence: float  # 0..1: correlation of the chroma with the winning key profile


def estimate_tempo(samples: np.ndarray, sample_rate: int, *, mel_power: np.ndarray | None = None) -> Tempo:
    """BPM from librosa's beat tracker. `mel_power` (frames, mels) at hop 256, when the caller already
    has it (the model's features), saves computing a second spectrogram."""
    import librosa

    if mel_power is not None:
        spectrum = librosa.power_to_db(mel_power.T)
        onset = librosa.onset.onset_strength(S=spectrum, sr=sample_rate, hop_length=HOP_LENGTH)
    else:
        onset = librosa.onset.onset_strength(y=samples, sr=sample_rate, hop_length=HOP_LENGTH)
    _, beats = librosa.beat.beat_track(onset_envelope=onset, sr=sample_rate, hop_length=HOP_LENGTH)
    if len(beats) < 4:
        return Tempo(None, 0.0)
    times = librosa.frames_to_time(beats, sr=sample_rate, hop_length=HOP_LENGTH)
    # librosa's tempo comes from a coarse lag grid (several BPM apart near 120); the slope of beat
    # time against beat index averages the whole track and is much finer.
    period = float(np.polyfit(np.arange(len(times)), times, 1)[0])
    if period <= 0:
        return Tempo(None, 0.0)
    return Tempo(round(60.0 / period, 1), _periodicity(onset, period * sample_rate / HOP_LENGTH))


def _periodicity(onset: np.ndarray, lag_frames: float) -> float:
    centred = onset - onset.mean()
    energy = float(np.dot(centred, centred))
    lag = int(round(lag_frames))
    if energy <= 0 or lag <= 0 or lag >= len(centred):
        return 0.0
    return float(np.clip(np.dot(centred[:-lag], centred[lag:]) / energy, 0.0, 1.0))


def key_scores(chroma_mean: np.ndarray) -> np.ndarray:
    """Pearson correlation of a 12-bin chroma with each of 24 keys: majors C..B, then minors C..B."""
    profiles = [np.roll(MAJOR_PROFILE, t) for t in range(12)] + [np.roll(MINOR_PROFILE, t) for t in range(12)]
    return np.array([np.corrcoef(chroma_mean, p)[0, 1] for p in profiles])


def estimate_key(samples: np.ndarray, sample_rate: int) -> Key:
    import librosa

    chroma = librosa.feature.chroma_stft(
        y=samples, sr=sample_rate, n_fft=KEY_N_FFT, hop_length=KEY_N_FFT // 2
    )
    mean = chroma.mean(axis=1)
    if not np.all(np.isfinite(mean)) or np.ptp(mean) < 1e-6:
        return Key(None, 0.0)
    scores = np.nan_to_num(key_scores(mean))
    best = int(np.argmax(scores))
    if scores[best] < MIN_KEY_CORRELATION:
        return Key(None, float(max(scores[best], 0.0)))
    mode = "major" if best < 12 else "minor"
    return Key(f"{NOTES[best % 12]} {mode}", float(scores[best]))
