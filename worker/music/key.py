"""Musical key with a confidence and its likely alternatives (relative, parallel, a fifth either way).

Method (docs/accuracy.md has the figures):
1. Two chroma vectors from one short-time Fourier transform (8192-point frames at 16 kHz, 2 Hz bins,
   fine enough to tell semitones apart in the bass): the whole range and the bass range 40-250 Hz,
   with pitch classes centred on the recording's tuning (estimated from its spectral peaks).
   Each frame is normalised before averaging, so loud passages do not outvote the rest.
2. Each of the 24 keys is scored by the Pearson correlation of both vectors with its Krumhansl-Kessler
   probe-tone profile (Krumhansl 1990, "Cognitive Foundations of Musical Pitch"; the
   Krumhansl-Schmuckler algorithm), summed. The bass line states chord roots, which names the tonic
   more reliably than the upper voices (the idea behind the bass chroma of Mauch & Dixon, "Simultaneous
   estimation of chords and musical context from audio", IEEE TASLP 18(6), 2010).
3. Mode is then decided on the winning tonic by the third, the interval that defines it: minor when the
   minor third is stronger than the major third; when the two are within 10 % of each other, the
   sixth decides the same way. Profiles mostly confuse parallel modes because their other degrees agree.

Confidence is the mean of two pieces of evidence in [0, 1]: agreement across the clip (the fraction of
4 s segments whose own estimate, made the same way, names the same key as the whole clip) and the
tonic's margin (how far the winning tonic's score stands above the best other tonic's, relative to the
median tonic's).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import numpy as np

from worker.music import theory as music

NOTES = music.NOTE_NAMES
# Krumhansl & Kessler (1982) probe-tone ratings, tonic first.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
FRAME_S = 0.512  # 8192 samples at 16 kHz
BASS_HZ = (40.0, 250.0)
TUNING_HZ = (80.0, 2000.0)  # where the partials that show the tuning are strongest and resolved
TUNING_PEAKS = 50  # the strongest spectral peaks vote for the tuning
TUNING_STEP = 0.05  # semitones: tunings closer than this share a filter bank
SEGMENT_S = 4.0  # the segments that vote for the confidence
MIN_KEY_CORRELATION = 0.3  # below this the chroma is too flat (drums, noise) to name a key, as before
THIRDS_TIE = 0.1  # thirds within 10 % of each other leave the mode to the sixth


@dataclass(frozen=True)
class KeyEstimate:
    name: str | None  # e.g. "A minor"
    confidence: float
    alternatives: tuple[tuple[str, float], ...]  # related keys, most likely first, with a score in [0, 1]


NO_KEY = KeyEstimate(None, 0.0, ())


def key_name(index: int) -> str:
    """0-11: C..B major, 12-23: C..B minor."""
    return _key_at(index).name


def _key_at(index: int) -> music.Key:
    return music.Key(index % 12, music.MINOR if index >= 12 else music.MAJOR)


def _index_of(key: music.Key) -> int:
    return key.tonic + (12 if key.mode == music.MINOR else 0)


def _standardise(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / (x.std() + 1e-12)


# Rows: the 24 keys (majors C..B, then minors C..B), each profile rotated to its tonic and standardised.
_PROFILES = np.array(
    [
        _standardise(np.roll(profile, tonic))
        for profile in (MAJOR_PROFILE, MINOR_PROFILE)
        for tonic in range(12)
    ]
)


def profile_scores(chroma: np.ndarray) -> np.ndarray:
    """Pearson correlation of a 12-bin chroma with each of 24 keys: majors C..B, then minors C..B."""
    return (_PROFILES * _standardise(chroma)).sum(axis=1) / 12.0


def chroma_frames(samples: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Per-frame max-normalised STFT chroma of the whole range and of the bass band, each (12, frames),
    and the frame rate. Pitch classes are centred on the recording's own tuning (see estimate_tuning)."""
    import librosa

    n_fft = int(2 ** round(np.log2(sample_rate * FRAME_S)))
    power = np.abs(librosa.stft(samples, n_fft=n_fft, hop_length=n_fft // 2)).astype(np.float32) ** 2
    freqs = librosa.fft_frequencies(sr=sample_rate, n_fft=n_fft)
    bass = power * ((freqs >= BASS_HZ[0]) & (freqs <= BASS_HZ[1]))[:, None]
    tuning = round(estimate_tuning(power.mean(axis=1), freqs) / TUNING_STEP) * TUNING_STEP
    bank = _chroma_filters(sample_rate, n_fft, tuning)
    full_chroma = librosa.util.normalize(np.asarray(bank @ power), norm=np.inf, axis=0)
    bass_chroma = librosa.util.normalize(np.asarray(bank @ bass), norm=np.inf, axis=0)
    return np.nan_to_num(full_chroma), np.nan_to_num(bass_chroma), sample_rate / (n_fft // 2)


def estimate_tuning(spectrum: np.ndarray, freqs: np.ndarray) -> float:
    """Deviation of the music's tuning from A440, in semitones within [-0.5, 0.5).

    The strongest spectral peaks between 80 Hz and 2 kHz are located to a fraction of a bin (parabola
    through the log magnitudes); each one's distance to the nearest equal-tempered pitch is an angle on
    the semitone circle, and the magnitude-weighted circular mean of those angles is the tuning. This is
    the idea of librosa.estimate_tuning (a histogram of peak deviations) on the spectrum already
    computed here, without its second, pitch-tracking pass.
    """
    log = np.log(spectrum + 1e-12)
    inner = (log[1:-1] > log[:-2]) & (log[1:-1] >= log[2:])
    peaks = np.flatnonzero(inner) + 1
    peaks = peaks[(freqs[peaks] >= TUNING_HZ[0]) & (freqs[peaks] <= TUNING_HZ[1])]
    if len(peaks) == 0:
        return 0.0
    peaks = peaks[np.argsort(spectrum[peaks])[-TUNING_PEAKS:]]
    left, centre, right = log[peaks - 1], log[peaks], log[peaks + 1]
    curvature = left - 2 * centre + right
    offset = np.where(curvature < 0, 0.5 * (left - right) / np.where(curvature < 0, curvature, -1.0), 0.0)
    bin_hz = freqs[1] - freqs[0]
    semitones = 12.0 * np.log2((freqs[peaks] + offset * bin_hz) / 440.0)
    angles = 2 * np.pi * (semitones - np.round(semitones))
    weights = spectrum[peaks]
    mean = float(np.arctan2(np.sum(weights * np.sin(angles)), np.sum(weights * np.cos(angles))))
    return float(np.clip(mean / (2 * np.pi), -0.5, 0.5 - 1e-9))


@cache
def _chroma_filters(sample_rate: int, n_fft: int, tuning: float = 0.0) -> Any:
    """librosa's STFT-bin-to-pitch-class weights (what chroma_stft applies), built once per shape
    and tuning (tunings are rounded to TUNING_STEP, so at most a few dozen banks are ever built).

    Stored sparse (weights below 0.1 % of a bin's largest dropped): a dense product would go through
    the BLAS, whose worker threads cost more than the arithmetic on a busy machine."""
    import librosa
    from scipy import sparse

    bank = np.asarray(librosa.filters.chroma(sr=sample_rate, n_fft=n_fft, tuning=tuning), dtype=np.float32)
    bank[bank < 1e-3 * bank.max(axis=0, keepdims=True)] = 0.0
    return sparse.csr_matrix(bank)


def estimate(samples: np.ndarray, sample_rate: int) -> KeyEstimate:
    full, bass, frame_rate = chroma_frames(samples, sample_rate)
    if full.shape[1] == 0:
        return NO_KEY
    found = from_chroma(full.mean(axis=1), bass.mean(axis=1))
    if found.name is None:
        return found
    votes = agreement(full, bass, frame_rate, found.name)
    return replace(found, confidence=round((votes + found.confidence) / 2.0, 3))


def agreement(full: np.ndarray, bass: np.ndarray, frame_rate: float, name: str) -> float:
    """Fraction of 4 s segments whose own key estimate is `name` (1.0 for a clip of one segment)."""
    size = max(1, int(round(SEGMENT_S * frame_rate)))
    starts = range(0, full.shape[1] - size + 1, size)
    votes = [
        decide(full[:, s : s + size].mean(axis=1), bass[:, s : s + size].mean(axis=1))[0] for s in starts
    ]
    return float(np.mean([v == name for v in votes])) if votes else 1.0


def from_chroma(full: np.ndarray, bass: np.ndarray) -> KeyEstimate:
    """The key of mean chroma vectors; confidence here is only the tonic margin (estimate() replaces
    it with the agreement across segments)."""
    name, scores, index, margin = decide(full, bass)
    if name is None:
        return NO_KEY
    return KeyEstimate(name, round(margin, 3), related_keys(scores, index))


def decide(full: np.ndarray, bass: np.ndarray) -> tuple[str | None, np.ndarray, int, float]:
    """(key name, the 24 profile scores, key index, tonic margin) of mean chroma vectors."""
    if np.ptp(full) < 1e-6:
        return None, np.zeros(24), -1, 0.0
    tonal = profile_scores(full)
    if tonal.max() < MIN_KEY_CORRELATION:
        return None, np.zeros(24), -1, 0.0
    scores = tonal + (profile_scores(bass) if np.ptp(bass) >= 1e-6 else 0.0)
    winner = int(np.argmax(scores))
    tonic = winner % 12
    minor, _ = mode_by_third_and_sixth(full, tonic)
    if minor is None:
        minor = winner >= 12
    index = tonic + 12 * minor
    return key_name(index), scores, index, _tonic_margin(scores, tonic)


def mode_by_third_and_sixth(chroma_mean: np.ndarray, tonic: int) -> tuple[bool | None, float]:
    """(minor?, clarity in [0, 1]) from the thirds above `tonic`, or its sixths when the thirds tie."""
    for minor_step, major_step in ((3, 4), (8, 9)):
        low, high = chroma_mean[(tonic + minor_step) % 12], chroma_mean[(tonic + major_step) % 12]
        louder = max(low, high)
        if louder <= 0:
            continue
        clarity = abs(low - high) / louder
        if clarity >= THIRDS_TIE or major_step == 9:
            return bool(low > high), float(clarity)
    return None, 0.0


def _tonic_margin(scores: np.ndarray, tonic: int) -> float:
    """How far the tonic's best key score stands above the best key on any other tonic (0..1)."""
    per_tonic = np.maximum(scores[:12], scores[12:])
    best = per_tonic[tonic]
    others = np.delete(per_tonic, tonic)
    spread = best - float(np.median(per_tonic))
    if spread <= 0:
        return 0.0
    return float(np.clip((best - others.max()) / spread, 0.0, 1.0))


def related_keys(scores: np.ndarray, index: int) -> tuple[tuple[str, float], ...]:
    """Relative, parallel, a fifth up and a fifth down, ranked by profile score (scaled to 0..1)."""
    candidates = [_index_of(related) for related, _ in music.related_keys(_key_at(index))]
    low, high = float(scores.min()), float(scores.max())
    span = high - low if high > low else 1.0
    ranked = sorted(candidates, key=lambda k: -scores[k])
    return tuple((key_name(k), round((float(scores[k]) - low) / span, 3)) for k in ranked)
