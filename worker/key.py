"""Musical key with a confidence and its likely alternatives (relative, parallel, a fifth either way).

Method (docs/accuracy.md has the figures):
1. Two chroma vectors from short-time Fourier spectra: the whole range (4096-point frames at 16 kHz,
   3.9 Hz bins) and the bass range 40-250 Hz (8192-point frames, fine enough to tell semitones apart
   down there). Each frame is normalised before averaging, so loud passages do not outvote the rest.
2. Each of the 24 keys is scored by the Pearson correlation of both vectors with its Krumhansl-Kessler
   probe-tone profile (Krumhansl 1990, "Cognitive Foundations of Musical Pitch"; the
   Krumhansl-Schmuckler algorithm), summed. The bass line states chord roots, which names the tonic
   more reliably than the upper voices (the idea behind the bass chroma of Mauch & Dixon, "Simultaneous
   estimation of chords and musical context from audio", IEEE TASLP 18(6), 2010).
3. Mode is then decided on the winning tonic by the third, the interval that defines it: minor when the
   minor third is stronger than the major third; when the two are within 10 % of each other, the
   sixth decides the same way. Profiles mostly confuse parallel modes because their other degrees agree.

Confidence combines the tonic's margin over the best other tonic and how clearly the third decided the
mode, each in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NOTES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
# Krumhansl & Kessler (1982) probe-tone ratings, tonic first.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
FRAME_S = 0.256  # 4096 samples at 16 kHz
BASS_FRAME_S = 0.512
BASS_HZ = (40.0, 250.0)
THIRDS_TIE = 0.1  # thirds within 10 % of each other leave the mode to the sixth


@dataclass(frozen=True)
class KeyEstimate:
    name: str | None  # e.g. "A minor"
    confidence: float
    alternatives: tuple[tuple[str, float], ...]  # related keys, most likely first, with a score in [0, 1]


NO_KEY = KeyEstimate(None, 0.0, ())


def key_name(index: int) -> str:
    """0-11: C..B major, 12-23: C..B minor."""
    return f"{NOTES[index % 12]} {'major' if index < 12 else 'minor'}"


def profile_scores(chroma: np.ndarray) -> np.ndarray:
    """Pearson correlation of a 12-bin chroma with each of 24 keys: majors C..B, then minors C..B."""
    centred = (chroma - chroma.mean()) / (chroma.std() + 1e-12)
    out = np.empty(24)
    for mode, profile in enumerate((MAJOR_PROFILE, MINOR_PROFILE)):
        p = (profile - profile.mean()) / profile.std()
        for tonic in range(12):
            out[12 * mode + tonic] = float(np.dot(centred, np.roll(p, tonic))) / 12.0
    return out


def chroma(
    samples: np.ndarray, sample_rate: int, frame_s: float, band: tuple[float, float] | None
) -> np.ndarray:
    """Mean of per-frame max-normalised STFT chroma (A440 tuning), optionally from one band only."""
    import librosa

    n_fft = int(2 ** round(np.log2(sample_rate * frame_s)))
    power = np.abs(librosa.stft(samples, n_fft=n_fft, hop_length=n_fft // 2)) ** 2
    if band is not None:
        freqs = librosa.fft_frequencies(sr=sample_rate, n_fft=n_fft)
        power[(freqs < band[0]) | (freqs > band[1])] = 0.0
    frames = librosa.feature.chroma_stft(S=power, sr=sample_rate, n_fft=n_fft, tuning=0.0)
    return np.nan_to_num(frames.mean(axis=1))


def estimate(samples: np.ndarray, sample_rate: int) -> KeyEstimate:
    full = chroma(samples, sample_rate, FRAME_S, None)
    bass = chroma(samples, sample_rate, BASS_FRAME_S, BASS_HZ)
    return from_chroma(full, bass)


def from_chroma(full: np.ndarray, bass: np.ndarray) -> KeyEstimate:
    if np.ptp(full) < 1e-6:
        return NO_KEY
    scores = profile_scores(full) + (profile_scores(bass) if np.ptp(bass) >= 1e-6 else 0.0)
    winner = int(np.argmax(scores))
    tonic = winner % 12
    minor, mode_clarity = mode_by_third_and_sixth(full, tonic)
    if minor is None:
        minor = winner >= 12
    index = tonic + 12 * minor
    confidence = _tonic_margin(scores, tonic) * mode_clarity
    return KeyEstimate(key_name(index), round(float(confidence), 3), related_keys(scores, index))


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
    tonic, minor = index % 12, index >= 12
    relative = (tonic + 3) % 12 if minor else 12 + (tonic + 9) % 12
    parallel = tonic if minor else tonic + 12
    mode_base = 12 if minor else 0
    fifth_up = mode_base + (tonic + 7) % 12
    fifth_down = mode_base + (tonic + 5) % 12
    low, high = float(scores.min()), float(scores.max())
    span = high - low if high > low else 1.0
    ranked = sorted((relative, parallel, fifth_up, fifth_down), key=lambda k: -scores[k])
    return tuple((key_name(k), round((float(scores[k]) - low) / span, 3)) for k in ranked)
