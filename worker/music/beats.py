"""Tempo, beats and downbeats from BeatNet's learned activations (worker.music.beatnet).

Method (docs/accuracy.md, "Learned beat front end", has the figures):
1. Activations: BeatNet checkpoint 1 gives, every 20 ms, the probability of a beat and of a
   downbeat. Their sum is the beat activation (a downbeat is a beat too).
2. Periodicity: the autocorrelation of the mean-removed beat activation, normalised to 1 at lag 0.
3. Beat period: a comb over the periodicity, acf(tau) + acf(2 tau) / 2 + acf(4 tau) / 4 with
   linear interpolation at fractional lags, weighted by a log-normal tempo prior (Ellis's centre of
   120 BPM and 1.4 octaves, as worker.music.tempo uses), over 40-250 BPM.
4. Bar length: the peak of the downbeat activation's autocorrelation between 1.2 and 5 s. It is
   reported, not used to move the beat level: doubling or halving the period so that a bar spans two
   to four beats lost clips on the development set (docs/accuracy.md).
5. Tempo to 0.1 BPM: the period is refined to a fraction of a frame by a least-squares line through
   the autocorrelation's peaks at each multiple of it (the beat grid over the whole clip, each peak
   placed at its centroid), so a steady track reads its own tempo, not a lag's rounding. (A line
   through the tracked beat times was tried first; the tracker drifts off the activation peaks at
   times and took the tempo with it.) Beats come from librosa's dynamic-programming tracker (Ellis
   2007) on the beat activation at that tempo.

6. Fusion with the onset estimator (worker.music.tempo), `fuse`: where the two disagree by an
   octave and the onset estimator's windows agree on its tempo (confidence at least 0.9), its
   octave is taken.

Confidence is the height of the chosen comb peak over the best comb value at periods that are not
within 4 % of it or of its double or half, mapped to [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from worker.music import beatnet

MIN_BPM, MAX_BPM = 40.0, 250.0
PRIOR_CENTRE_BPM = 120.0  # Ellis (2007), as in worker.music.tempo
PRIOR_OCTAVES = 1.4
COMB = ((1.0, 1.0), (2.0, 0.5), (4.0, 0.25))  # (multiple of the period, weight)
BAR_S = (1.2, 5.0)
TOLERANCE = 0.04


@dataclass(frozen=True)
class BeatEstimate:
    bpm: float | None
    confidence: float
    beats: np.ndarray  # seconds
    downbeat_period_s: float | None  # the bar length the downbeats show


NO_BEATS = BeatEstimate(None, 0.0, np.zeros(0), None)


def autocorrelation(signal: np.ndarray) -> np.ndarray:
    """Autocorrelation of the mean-removed signal, 1 at lag 0 (0 everywhere for a constant)."""
    x = signal - signal.mean()
    n = len(x)
    spectrum = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(np.abs(spectrum) ** 2)[:n]
    return acf / acf[0] if acf[0] > 0 else np.zeros(n)


def comb(acf: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """The comb salience at each (fractional) lag: sum of weight * acf(multiple * lag)."""
    grid = np.arange(len(acf))
    return sum(weight * np.interp(lags * multiple, grid, acf, right=0.0) for multiple, weight in COMB)


def prior(bpm: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * (np.log2(bpm / PRIOR_CENTRE_BPM) / PRIOR_OCTAVES) ** 2)


def beat_period(beat: np.ndarray, fps: float) -> tuple[float, float]:
    """(period in frames, confidence) from the beat activation's comb salience."""
    acf = autocorrelation(beat)
    bpms = np.arange(MIN_BPM, MAX_BPM, 0.5)
    lags = 60.0 * fps / bpms
    score = np.maximum(comb(acf, lags), 0.0) * prior(bpms)
    best = int(np.argmax(score))
    if score[best] <= 0.0:
        return 0.0, 0.0
    related = np.zeros(len(bpms), dtype=bool)
    for factor in (1.0, 2.0, 0.5):
        related |= np.abs(bpms / (bpms[best] * factor) - 1.0) <= TOLERANCE
    rival = float(score[~related].max()) if np.any(~related) else 0.0
    confidence = 1.0 - rival / float(score[best])
    return float(lags[best]), float(np.clip(confidence, 0.0, 1.0))


def bar_period(downbeat: np.ndarray, fps: float) -> float | None:
    """The strongest period of the downbeat activation between 1.2 and 5 s, in frames."""
    acf = autocorrelation(downbeat)
    low, high = int(BAR_S[0] * fps), min(int(BAR_S[1] * fps), len(acf) - 1)
    if high <= low:
        return None
    lag = low + int(np.argmax(acf[low:high]))
    return float(lag) if acf[lag] > 0.0 else None


def refine_period(acf: np.ndarray, period: float) -> float:
    """The period to a fraction of a frame: the least-squares slope, through the origin, of the
    autocorrelation's peaks near each multiple of `period` (each placed at the centroid of its
    five lags centred on its highest), over the first half of the lags."""
    multiples, positions = [], []
    for k in range(1, int(len(acf) / 2 / period) + 1):
        centre = int(round(k * period))
        low, high = max(1, centre - 2), min(len(acf) - 2, centre + 2)
        if high <= low:
            break
        peak = low + int(np.argmax(acf[low : high + 1]))
        around = np.arange(max(1, peak - 2), min(len(acf), peak + 3))
        weights = np.maximum(acf[around], 0.0)
        if weights.sum() <= 0.0:
            continue
        multiples.append(k)
        positions.append(float(around @ weights / weights.sum()))
    if not multiples:
        return period
    k_arr, pos = np.asarray(multiples, dtype=float), np.asarray(positions)
    refined = float(k_arr @ pos / (k_arr @ k_arr))
    return refined if abs(refined / period - 1.0) <= TOLERANCE else period


def track(beat: np.ndarray, fps: float, bpm: float) -> np.ndarray:
    """Beat times (s) by librosa's dynamic-programming tracker on the activation."""
    import librosa

    hop = 512  # librosa wants sr and hop; any pair with sr / hop == fps will do
    _, frames = librosa.beat.beat_track(
        onset_envelope=beat, sr=fps * hop, hop_length=hop, bpm=bpm, tightness=400, trim=False
    )
    return np.asarray(frames, dtype=float) / fps


def from_activations(activations: np.ndarray, fps: float = beatnet.FPS) -> BeatEstimate:
    if len(activations) < 4 * fps:
        return NO_BEATS
    beat = activations.sum(axis=1)
    if float(beat.std()) <= 1e-6:
        return NO_BEATS
    period, confidence = beat_period(beat, fps)
    if period <= 0.0:
        return NO_BEATS
    bar = bar_period(activations[:, 1], fps)
    period = refine_period(autocorrelation(beat), period)
    bpm = 60.0 * fps / period
    beats = track(beat, fps, bpm)
    return BeatEstimate(round(bpm, 1), round(confidence, 3), np.round(beats, 3), bar / fps if bar else None)


FUSE_CONFIDENCE = 0.9


def fuse(learned: BeatEstimate, onset_bpm: float | None, onset_confidence: float) -> float | None:
    """The learned tempo, or the onset estimator's when it is an octave of it and sure of itself."""
    if learned.bpm is None or onset_bpm is None:
        return learned.bpm if learned.bpm is not None else onset_bpm
    for factor in (2.0, 0.5):
        if abs(onset_bpm / (learned.bpm * factor) - 1.0) <= TOLERANCE and onset_confidence >= FUSE_CONFIDENCE:
            return onset_bpm
    return learned.bpm


def estimate(samples: np.ndarray, sample_rate: int) -> BeatEstimate:
    return from_activations(beatnet.activations(samples, sample_rate))
