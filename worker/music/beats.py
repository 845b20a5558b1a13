"""Tempo, beats and downbeats from BeatNet's learned activations (worker.music.beatnet).

Method (docs/accuracy.md, "Learned beat front end", has the figures):
1. Activations: BeatNet checkpoint 1 gives, every 20 ms, the probability of a beat and of a
   downbeat. Their sum is the beat activation (a downbeat is a beat too).
2. Periodicity: the autocorrelation of the mean-removed beat activation, normalised to 1 at lag 0.
3. Beat period: a comb over the periodicity, acf(tau) + acf(2 tau) / 2 + acf(4 tau) / 4 with
   linear interpolation at fractional lags, weighted by a log-normal tempo prior (Ellis's centre of
   120 BPM and 1.4 octaves, as worker.music.tempo uses), over 40-250 BPM.
4. The beat level is not moved by the bar: doubling or halving the period so that the downbeat
   activation's own period (its autocorrelation peak between 1.2 and 5 s) spans two to four beats
   lost clips on the development set (docs/accuracy.md).
5. Tempo to 0.1 BPM: the period is refined to a fraction of a frame by a least-squares line through
   the autocorrelation's peaks at each multiple of it (the beat grid over the whole clip, each peak
   placed at its centroid), so a steady track reads its own tempo, not a lag's rounding. (A line
   through the tracked beat times was tried first; the tracker drifts off the activation peaks at
   times and took the tempo with it.) Beats come from librosa's dynamic-programming tracker (Ellis
   2007) on the beat activation at that tempo.

6. The bar (`bar`): the downbeat activation is read at each tracked beat (its maximum within one
   frame of the beat). For each meter m of 3 and 4 beats and each phase p < m, the contrast is the
   mean reading at beats p, p + m, p + 2m... minus the mean at the other beats. Each meter keeps its
   best phase; four beats to the bar wins unless three's contrast is higher by THREE_MARGIN (most
   music the project sees is in four, and on the development set the network's three-beat evidence
   was right less often than not: bench/downbeats.py prints both choices). The downbeats are every
   m-th tracked beat from beat p. Where the chosen contrast is under MIN_CONTRAST, or there are
   fewer than two bars of beats, the activation does not show the bar: beats_per_bar is None and
   there are no downbeats. One phase for the whole clip: a Viterbi path over bar positions that
   allowed phase jumps was tried and gained nothing on the development set.

7. Fusion with the onset estimator (worker.music.tempo), `fuse`: where the two disagree by an
   octave and the onset estimator's windows agree on its tempo (confidence at least 0.9), its
   octave is taken.

Confidence is the height of the chosen comb peak over the best comb value at periods that are not
within 4 % of it or of its double or half, mapped to [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from worker.music import beatnet

MIN_BPM, MAX_BPM = 40.0, 250.0
PRIOR_CENTRE_BPM = 120.0  # Ellis (2007), as in worker.music.tempo
PRIOR_OCTAVES = 1.4
COMB = ((1.0, 1.0), (2.0, 0.5), (4.0, 0.25))  # (multiple of the period, weight)
TOLERANCE = 0.04
METERS = (3, 4)  # beats per bar that `bar` considers
MIN_CONTRAST = 0.05  # mean downbeat activation on the chosen downbeats over the other beats
THREE_MARGIN = 0.1  # three beats to the bar only when its contrast beats four's by this much


def _no_times() -> np.ndarray:
    return np.zeros(0)


@dataclass(frozen=True)
class BeatEstimate:
    bpm: float | None
    confidence: float
    beats: np.ndarray  # seconds
    downbeats: np.ndarray = field(default_factory=_no_times)  # seconds, each one of `beats`
    beats_per_bar: int | None = None  # 3 or 4; None when the activation does not show the bar

    @property
    def bar_s(self) -> float | None:
        """The bar's length in seconds, from the tempo and the beats per bar."""
        if self.bpm is None or self.beats_per_bar is None:
            return None
        return self.beats_per_bar * 60.0 / self.bpm


NO_BEATS = BeatEstimate(None, 0.0, np.zeros(0))


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
    """Beat frames by librosa's dynamic-programming tracker on the activation."""
    import librosa

    hop = 512  # librosa wants sr and hop; any pair with sr / hop == fps will do
    _, frames = librosa.beat.beat_track(
        onset_envelope=beat, sr=fps * hop, hop_length=hop, bpm=bpm, tightness=400, trim=False
    )
    return np.asarray(frames, dtype=int)


def at_beats(activation: np.ndarray, beat_frames: np.ndarray) -> np.ndarray:
    """The activation's maximum within one frame of each beat."""
    last = len(activation) - 1
    around = np.clip(beat_frames[:, None] + np.arange(-1, 2), 0, last)
    return activation[around].max(axis=1)


def bar_contrast(strength: np.ndarray, meter: int, phase: int) -> float:
    """Mean of `strength` at beats phase, phase + meter... minus its mean at the other beats."""
    on = np.zeros(len(strength), dtype=bool)
    on[phase::meter] = True
    return float(strength[on].mean() - strength[~on].mean())


def bar(
    downbeat: np.ndarray, beat_frames: np.ndarray, three_margin: float = THREE_MARGIN
) -> tuple[int | None, int]:
    """(beats per bar, the index among the beats of the first downbeat) from the downbeat
    activation at the beats; (None, 0) when it shows no bar."""
    if len(beat_frames) < 2 * max(METERS):
        return None, 0
    strength = at_beats(downbeat, beat_frames)
    best: dict[int, tuple[float, int]] = {}
    for meter in METERS:
        contrasts = [bar_contrast(strength, meter, phase) for phase in range(meter)]
        phase = int(np.argmax(contrasts))
        best[meter] = (contrasts[phase], phase)
    meter = 3 if best[3][0] > best[4][0] + three_margin else 4
    contrast, phase = best[meter]
    return (meter, phase) if contrast >= MIN_CONTRAST else (None, 0)


def from_activations(activations: np.ndarray, fps: float = beatnet.FPS) -> BeatEstimate:
    if len(activations) < 4 * fps:
        return NO_BEATS
    beat = activations.sum(axis=1)
    if float(beat.std()) <= 1e-6:
        return NO_BEATS
    period, confidence = beat_period(beat, fps)
    if period <= 0.0:
        return NO_BEATS
    period = refine_period(autocorrelation(beat), period)
    bpm = 60.0 * fps / period
    frames = track(beat, fps, bpm)
    beats_per_bar, first = bar(activations[:, 1], frames)
    times = np.round(frames / fps, 3)
    downbeats = times[first::beats_per_bar] if beats_per_bar else np.zeros(0)
    return BeatEstimate(round(bpm, 1), round(confidence, 3), times, downbeats, beats_per_bar)


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
