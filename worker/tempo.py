"""Global tempo, its octave alternative and beat times from an onset-strength envelope.

Method (docs/accuracy.md has the figures):
1. Onset strength from the clip itself at a 16 ms hop (librosa's spectral-flux onset envelope on a
   64-band mel spectrogram of a 1024-point STFT at 16 kHz), not from the genre model's coarser mel.
2. Periodicity: the mean of librosa's autocorrelation tempogram over 6 s windows, so a tempo that
   drifts (rubato) still forms one peak.
3. Salience of a beat period tau: its periodicity plus half that of the period one metrical level up
   (2 tau), as in Ellis's "TPS2" (D. P. W. Ellis, "Beat tracking by dynamic programming", J. New
   Music Research 36(1), 2007): a beat level is supported by the bar-level pulse above it.
4. Prior: Ellis's log-Gaussian weighting of periods, centred on 0.5 s (120 BPM) with a standard
   deviation of 1.4 octaves (his published values; no constant here was fitted to our corpus).
5. The best period is refined by parabolic interpolation of the periodicity peak; beats come from
   librosa's dynamic-programming tracker (Ellis 2007) run at that tempo.

Confidence is the winner's margin over the strongest competing period (another salience peak more
than 4 % away), relative to the winner: 0 when two tempi are equally likely, 1 when nothing competes.
When it is low, the competing octave (x2 or /2 of the winner) is returned as the alternative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HOP_S = 0.016  # onset frame step; 256 samples at 16 kHz
N_FFT_S = 0.064  # onset STFT window; 1024 samples at 16 kHz
N_MELS = 64
TEMPOGRAM_WINDOW_S = 6.0
MIN_BPM, MAX_BPM = 30.0, 300.0
PRIOR_CENTRE_BPM = 120.0  # Ellis (2007): tau0 = 0.5 s
PRIOR_OCTAVES = 1.4  # Ellis (2007): sigma = 1.4 octaves
TOLERANCE = 0.04  # periods within 4 % are the same tempo (the Acc1 tolerance)
UNSURE_BELOW = 0.5  # below this confidence, the octave alternative is reported


@dataclass(frozen=True)
class TempoEstimate:
    bpm: float | None
    confidence: float
    alternative_bpm: float | None  # the octave candidate (x2 or /2) when the estimate is unsure
    beats: np.ndarray  # beat times in seconds


NO_TEMPO = TempoEstimate(None, 0.0, None, np.zeros(0))


def onset_envelope(samples: np.ndarray, sample_rate: int) -> tuple[np.ndarray, int]:
    """librosa's onset strength at a ~16 ms hop; returns (envelope, hop in samples)."""
    import librosa

    hop = _power_of_two(sample_rate * HOP_S)
    n_fft = _power_of_two(sample_rate * N_FFT_S)
    envelope = librosa.onset.onset_strength(
        y=samples, sr=sample_rate, hop_length=hop, n_fft=n_fft, n_mels=N_MELS
    )
    return envelope, hop


def _power_of_two(n: float) -> int:
    return int(2 ** round(np.log2(n)))


def periodicity(envelope: np.ndarray, frame_rate: float) -> np.ndarray:
    """Mean autocorrelation tempogram: index = lag in frames, value 1 at lag 0."""
    import librosa

    window = min(int(round(TEMPOGRAM_WINDOW_S * frame_rate)), len(envelope))
    gram = librosa.feature.tempogram(onset_envelope=envelope, win_length=window, hop_length=1, sr=1)
    return np.asarray(gram.mean(axis=1))


def salience(acf: np.ndarray, frame_rate: float) -> np.ndarray:
    """Prior-weighted periodicity with the next metrical level's support (Ellis's TPS2)."""
    lags = np.arange(len(acf), dtype=float)
    support = np.zeros_like(acf)
    half = (len(acf) - 1) // 2
    support[1 : half + 1] = 0.5 * acf[2 : 2 * half + 1 : 2]
    bpm = 60.0 * frame_rate / np.maximum(lags, 1.0)
    prior = np.exp(-0.5 * (np.log2(bpm / PRIOR_CENTRE_BPM) / PRIOR_OCTAVES) ** 2)
    prior[(bpm < MIN_BPM) | (bpm > MAX_BPM) | (lags == 0)] = 0.0
    return np.maximum(acf + support, 0.0) * prior


def estimate(samples: np.ndarray, sample_rate: int) -> TempoEstimate:
    envelope, hop = onset_envelope(samples, sample_rate)
    if len(envelope) < 4 or float(envelope.std()) <= 1e-9:
        return NO_TEMPO
    return from_envelope(envelope, sample_rate / hop)


def from_envelope(envelope: np.ndarray, frame_rate: float) -> TempoEstimate:
    acf = periodicity(envelope, frame_rate)
    score = salience(acf, frame_rate)
    best = int(np.argmax(score))
    if score[best] <= 0.0:
        return NO_TEMPO
    period = _refine(acf, best)
    bpm = 60.0 * frame_rate / period
    rival = _strongest_rival(score, best)
    confidence = 1.0 - score[rival] / score[best] if rival is not None else 1.0
    beats = _track_beats(envelope, frame_rate, bpm)
    if len(beats) < 4:
        return NO_TEMPO
    alternative = _octave_alternative(score, best, frame_rate) if confidence < UNSURE_BELOW else None
    return TempoEstimate(round(bpm, 1), round(float(confidence), 3), alternative, beats)


def _refine(acf: np.ndarray, lag: int) -> float:
    """Sub-frame peak position by a parabola through the peak and its neighbours."""
    if 0 < lag < len(acf) - 1:
        left, centre, right = acf[lag - 1], acf[lag], acf[lag + 1]
        curvature = left - 2 * centre + right
        if curvature < 0:
            return lag + 0.5 * float(left - right) / float(curvature)
    return float(lag)


def _local_maxima(score: np.ndarray) -> np.ndarray:
    inner = (score[1:-1] > score[:-2]) & (score[1:-1] >= score[2:]) & (score[1:-1] > 0)
    return np.flatnonzero(inner) + 1


def _strongest_rival(score: np.ndarray, best: int) -> int | None:
    peaks = [p for p in _local_maxima(score) if abs(p - best) > TOLERANCE * best]
    return max(peaks, key=lambda p: score[p]) if peaks else None


def _octave_alternative(score: np.ndarray, best: int, frame_rate: float) -> float | None:
    """Whichever of double and half the tempo is more salient (None if neither is in range)."""
    candidates = []
    for lag in (best / 2.0, best * 2.0):
        low, high = int(np.floor(lag * (1 - TOLERANCE))), int(np.ceil(lag * (1 + TOLERANCE)))
        if low >= 1 and high < len(score):
            peak = low + int(np.argmax(score[low : high + 1]))
            candidates.append((score[peak], lag))
    if not candidates or max(candidates)[0] <= 0:
        return None
    return round(60.0 * frame_rate / max(candidates)[1], 1)


def _track_beats(envelope: np.ndarray, frame_rate: float, bpm: float) -> np.ndarray:
    import librosa

    # librosa's tracker takes sr and hop separately; any pair with sr / hop == frame_rate will do.
    hop = 512
    _, frames = librosa.beat.beat_track(
        onset_envelope=envelope, sr=frame_rate * hop, hop_length=hop, bpm=bpm, tightness=100
    )
    return np.round(np.asarray(frames, dtype=float) / frame_rate, 3)
