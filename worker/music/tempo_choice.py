"""The tempo the worker reports: the learned estimate (worker.music.beats) fused with the onset
estimator (worker.music.tempo), with a confidence calibrated on real recordings and its octave.

Decision: `beats.fuse`, the learned tempo unless the onset estimator names an octave of it and its
windows agree on that (docs/accuracy.md, "Learned beat front end").

Confidence: the probability that the tempo is right within 4 % (Acc1), from a logistic model of
three measures that each separated right from wrong on the real development set (bench/calibrate.py
prints the reliability of each badge, held out by fold):
- `agree`: the learned and the onset estimators name the same tempo within 4 % (1) or not (0);
- `pulse`: the onset estimator's agreement across the clip (worker.music.tempo's confidence);
- `periodicity`: the beat activation's autocorrelation at the chosen period (1 at lag 0), how
  clearly the network's beats repeat at that tempo.
The weights are a logistic regression on the 118 clips with a tempo (rounded; ROC AUC 0.73 held out
by fold, against 0.71 for the onset agreement alone and 0.56 for the learned comb margin).

Alternative: the octave (x2 or /2) whose comb salience under the tempo prior is higher, exactly
double or half the reported tempo as the page's x2 and /2 buttons set it. It is always offered when
it lies in 40-250 BPM: on the development set most wrong tempi are an octave off. (x3/2 and x2/3,
the other common error, are not offered: the page has only x2 and /2 buttons.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from worker.music import beatnet, beats
from worker.music import tempo as onset_tempo
from worker.music.beats import BeatEstimate

# Logistic weights: intercept, agree, pulse, periodicity (bench/calibrate.py, docs/accuracy.md).
WEIGHTS = (-3.1, 0.8, 2.3, 2.1)
MIN_BPM, MAX_BPM = beats.MIN_BPM, beats.MAX_BPM


@dataclass(frozen=True)
class Measures:
    """What the confidence is computed from (bench/calibrate.py reads them too)."""

    agree: bool
    pulse: float
    periodicity: float


@dataclass(frozen=True)
class Choice:
    bpm: float | None
    confidence: float  # estimated probability that bpm is within 4 % of the true tempo
    alternative_bpm: float | None
    beats: np.ndarray  # seconds
    learned: BeatEstimate
    onset: onset_tempo.TempoEstimate
    measures: Measures | None


def confidence(measures: Measures) -> float:
    intercept, w_agree, w_pulse, w_periodicity = WEIGHTS
    z = intercept + w_agree * measures.agree + w_pulse * measures.pulse + w_periodicity * measures.periodicity
    return float(1.0 / (1.0 + np.exp(-z)))


def same_tempo(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and abs(a / b - 1.0) <= beats.TOLERANCE


def periodicity(acf: np.ndarray, bpm: float, fps: float = beatnet.FPS) -> float:
    """The beat activation's autocorrelation `acf` at the period of `bpm` (0 when it is negative)."""
    return max(0.0, float(np.interp(60.0 * fps / bpm, np.arange(len(acf)), acf)))


def octave(acf: np.ndarray, bpm: float, fps: float = beatnet.FPS) -> float | None:
    """Double or half `bpm` (to 0.1 BPM), whichever the prior-weighted comb over the beat
    activation's autocorrelation `acf` favours; the one in range when only one is; None when
    neither is."""
    candidates = [c for c in (bpm * 2.0, bpm / 2.0) if MIN_BPM <= c <= MAX_BPM]
    if not candidates:
        return None
    bpms = np.array(candidates)
    salience = np.maximum(beats.comb(acf, 60.0 * fps / bpms), 0.0) * beats.prior(bpms)
    return round(float(bpms[int(np.argmax(salience))]), 1)


def choose(activations: np.ndarray, onset: onset_tempo.TempoEstimate, fps: float = beatnet.FPS) -> Choice:
    """The reported tempo from BeatNet's activations and the onset estimate of the same clip."""
    learned = beats.from_activations(activations, fps)
    # Without onsets (silence, a constant) there is no tempo: the network's activations are never
    # quite flat, and their faint ripple would still give one.
    bpm = beats.fuse(learned, onset.bpm, onset.confidence) if onset.bpm is not None else None
    if bpm is None:
        return Choice(None, 0.0, None, np.zeros(0), learned, onset, None)
    acf = beats.autocorrelation(activations.sum(axis=1))
    from_learned = learned.bpm is not None and bpm == learned.bpm
    times = learned.beats if from_learned else onset.beats
    measures = Measures(
        agree=same_tempo(learned.bpm, onset.bpm),
        pulse=onset.confidence,
        periodicity=periodicity(acf, bpm, fps) if learned.bpm is not None else 0.0,
    )
    alternative = octave(acf, bpm, fps) if learned.bpm is not None else onset.alternative_bpm
    return Choice(bpm, round(confidence(measures), 3), alternative, times, learned, onset, measures)


def estimate(samples: np.ndarray, sample_rate: int) -> Choice:
    onset = onset_tempo.estimate(samples, sample_rate)
    return choose(beatnet.activations(samples, sample_rate), onset)
