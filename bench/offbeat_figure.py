"""Off-beat emphasis: how much louder the onsets between the beats are than those on them (issue 27).

Reggae has no tag in either tagger, so the outside detector needs other evidence for it. Its most
recognised trait is rhythmic: the "skank", a short chord chop on the off-beats (the "and"s in ska
and rocksteady counting, beats 2 and 4 at reggae's slower count), while the strong beats are left
comparatively bare (the "one drop" leaves out even the first beat). Most of our seven genres put
their loudest onsets on the beat (the kick and the downbeat chords of rock, pop, R&B and dance).

The figure is read from a mid-band onset envelope at beat and off-beat positions:

- Band 0.5-5 kHz: the chop's chord and attack, above the kick and bass (which mark the beat in
  nearly every style, reggae included) and below most of the hi-hat's energy (dance music's open
  hi-hat on the off-beat is not a skank). Not split into harmonic and percussive parts: the chop is
  both, a chord with a hard attack, and the split would cost a second STFT.
- Envelope: spectral flux of log-compressed magnitudes in that band (the positive change, summed over
  bins) on centred 64 ms frames every 10 ms, less its 0.5 s moving average and half-wave rectified, so sustained loudness does not count.
- Reading: at each position, the envelope's maximum within TOLERANCE_S (the beat tracker's frames
  are 20 ms), or an eighth of the spacing of the positions at that level when that is closer.
- Statistic: log2 of (mean reading at the off positions + eps) over (mean at the on positions + eps),
  eps a small share of the envelope's mean. 0 = as loud off the beat as on it; 1 = twice as loud.

The tracker can lock at the song's tempo, at twice it or at half it, so the figure is taken at three
levels of the tracked grid and the largest is reported (`Offbeat.emphasis`):

- `beat`: on = the tracked beats, off = the midpoints between them (the tracker at the song's tempo);
- `sub`: on = the beats and their midpoints, off = the quarter points (the tracker at half tempo, so
  the song's off-beats fall on the quarter points);
- `pair`: on and off alternate beat by beat (the tracker at double tempo, so the song's off-beats
  are every other tracked beat). Which alternate is "on" comes from the downbeats when the bar is
  known (a downbeat is on the beat), otherwise from the low band (below 200 Hz, kick and bass): the
  alternate with the stronger low onsets is on.

The caveat, stated before measuring: at the `pair` level a rock or pop backbeat (snare on 2 and 4,
kick on 1 and 3) also reads as off-beat emphasis when the tracker is at the song's tempo; the bench
(bench/offbeat.py) prints each level so this can be seen. Plain NumPy and librosa; worker.analysis
(estimate_tempo) gives the beats, this module does not track them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

VERSION = 2  # bumped whenever a figure changes, so cached figures (bench/offbeat.py) are remeasured
BAND_HZ = (500.0, 5000.0)
LOW_HZ = (20.0, 200.0)
HOP_S = 0.01
N_FFT_S = 0.064
COMPRESSION = 100.0  # log(1 + C * magnitude)
DETREND_S = 0.5
TOLERANCE_S = 0.03
MIN_BEATS = 8
EPS_SHARE = 0.05  # eps of the ratio, as a share of the envelope's mean


@dataclass(frozen=True)
class Offbeat:
    """log2 (off-beat onset strength / on-beat onset strength) at three levels of the beat grid."""

    beat: float
    sub: float
    pair: float

    @property
    def emphasis(self) -> float:
        """The largest of the three: the off-beat emphasis at whichever level the tracker missed."""
        return max(self.beat, self.sub, self.pair)


@dataclass(frozen=True)
class Envelopes:
    mid: np.ndarray  # onset strength in BAND_HZ, one value per frame
    low: np.ndarray  # onset strength in LOW_HZ
    fps: float


def envelopes(samples: np.ndarray, sample_rate: int) -> Envelopes:
    """Mid-band and low-band onset envelopes (spectral flux, detrended) at HOP_S."""
    hop = max(1, round(HOP_S * sample_rate))
    n_fft = 1 << int(np.ceil(np.log2(N_FFT_S * sample_rate)))
    x = np.asarray(samples, np.float64).ravel()
    if len(x) < n_fft:
        empty = np.zeros(0)
        return Envelopes(empty, empty, sample_rate / hop)
    # Centred frames: frame i covers i * hop +- n_fft / 2, so its time is i * hop (an uncentred frame
    # would put every onset half a window, 32 ms, early against the beats).
    x = np.pad(x, n_fft // 2)
    frames = 1 + (len(x) - n_fft) // hop
    index = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
    magnitude = np.abs(np.fft.rfft(x[index] * np.hanning(n_fft)[None, :], axis=1))
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    fps = sample_rate / hop
    return Envelopes(_flux(magnitude, freqs, BAND_HZ, fps), _flux(magnitude, freqs, LOW_HZ, fps), fps)


def _flux(magnitude: np.ndarray, freqs: np.ndarray, band: tuple[float, float], fps: float) -> np.ndarray:
    bins = (freqs >= band[0]) & (freqs < band[1])
    compressed = np.log1p(COMPRESSION * magnitude[:, bins])
    flux = np.zeros(len(magnitude))
    flux[1:] = np.maximum(np.diff(compressed, axis=0), 0.0).sum(axis=1)
    width = max(1, round(DETREND_S * fps))
    trend = np.convolve(flux, np.ones(width) / width, mode="same")
    return np.maximum(flux - trend, 0.0)


def readings(envelope: np.ndarray, fps: float, times: np.ndarray, tolerance_s: float) -> np.ndarray:
    """The envelope's maximum within tolerance_s of each time (times outside the envelope are dropped)."""
    half = max(0, round(tolerance_s * fps))
    centres = np.round(np.asarray(times, np.float64) * fps).astype(int)
    centres = centres[(centres - half >= 0) & (centres + half < len(envelope))]
    if not len(centres):
        return np.zeros(0)
    window = centres[:, None] + np.arange(-half, half + 1)[None, :]
    return np.asarray(envelope[window].max(axis=1), np.float64)


def _ratio(envelope: np.ndarray, fps: float, on: np.ndarray, off: np.ndarray, spacing_s: float) -> float:
    tolerance = min(TOLERANCE_S, spacing_s / 8.0)
    eps = EPS_SHARE * float(envelope.mean()) + 1e-12
    on_read, off_read = readings(envelope, fps, on, tolerance), readings(envelope, fps, off, tolerance)
    if not len(on_read) or not len(off_read):
        return 0.0
    return float(np.log2((off_read.mean() + eps) / (on_read.mean() + eps)))


def from_envelopes(
    mid: np.ndarray,
    fps: float,
    beats: Sequence[float] | np.ndarray,
    *,
    phase: np.ndarray | None = None,
    downbeats: Sequence[float] | np.ndarray = (),
) -> Offbeat | None:
    """The off-beat figures of an onset envelope at these beats (seconds); None with too few beats
    or a silent envelope. `phase` (default `mid`) decides the `pair` level's on-beats when no
    downbeats are given."""
    b = np.sort(np.asarray(beats, np.float64))
    if len(b) < MIN_BEATS or not len(mid) or float(np.max(mid)) <= 0.0:
        return None
    gaps = np.diff(b)
    spacing = float(np.median(gaps))
    if spacing <= 0.0:
        return None
    mids = b[:-1] + gaps / 2
    quarters = np.concatenate([b[:-1] + gaps / 4, b[:-1] + 3 * gaps / 4])
    beat = _ratio(mid, fps, b, mids, spacing / 2)
    sub = _ratio(mid, fps, np.concatenate([b, mids]), quarters, spacing / 4)
    even, odd = b[0::2], b[1::2]
    if len(downbeats):
        first = int(np.argmin(np.abs(b - float(np.asarray(downbeats, np.float64)[0]))))
        on_even = first % 2 == 0
    else:
        reference = mid if phase is None else phase
        tolerance = min(TOLERANCE_S, spacing / 8)
        on_even = (
            readings(reference, fps, even, tolerance).mean()
            >= readings(reference, fps, odd, tolerance).mean()
        )
    on, off = (even, odd) if on_even else (odd, even)
    pair = _ratio(mid, fps, on, off, spacing)
    return Offbeat(round(beat, 4), round(sub, 4), round(pair, 4))


def measure(
    samples: np.ndarray,
    sample_rate: int,
    beats: Sequence[float] | np.ndarray,
    downbeats: Sequence[float] | np.ndarray = (),
) -> Offbeat | None:
    """Off-beat emphasis of this audio at these beats (worker.analysis.estimate_tempo's `beats` and
    `downbeats`); None when there are fewer than MIN_BEATS beats or no onsets."""
    if len(beats) < MIN_BEATS:
        return None
    found = envelopes(samples, sample_rate)
    return from_envelopes(found.mid, found.fps, beats, phase=found.low, downbeats=downbeats)
