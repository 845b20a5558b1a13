"""The tempo the worker reports: the learned estimate (worker.music.beats) fused with the onset
estimator (worker.music.tempo), with a confidence calibrated on real recordings and its octave.

Decision: `beats.fuse`, the learned tempo unless the onset estimator names an octave of it and its
windows agree on that (docs/accuracy.md, "Learned beat front end").

Decimals: on a steady track the tempo is refined from the learned beat grid (`grid_bpm`; also when
the fusion takes the onset estimator's octave, whose own decimals are coarser): each tracked beat
is placed at the centroid of the activation peak it sits on, and a least-squares line through those
positions gives the period. It is used only when the beats lie within half a frame (10 ms, RMS) of
that line and it moves the tempo by at most 2 %; rubato keeps the comb's tempo. On the development
set this took the median BPM error of the steady clips' Acc1 hits from 0.15 to 0.10 (classical 1.01
to 1.06), and a generated 126 BPM drum track from 125.9 to 126.0.

Confidence: the probability that the tempo is right within 4 % (Acc1), from a logistic model of
three measures that each separated right from wrong on the real development set (bench/calibrate.py
prints the reliability of each badge, held out by fold):
- `agree`: the learned and the onset estimators name the same tempo within 4 % (1) or not (0);
- `pulse`: the onset estimator's agreement across the clip (worker.music.tempo's confidence);
- `periodicity`: the beat activation's autocorrelation at the chosen period (1 at lag 0), how
  clearly the network's beats repeat at that tempo.
The weights are a logistic regression on the 118 clips with a tempo (rounded). Its ROC AUC held out
was 0.73 by fold and 0.76 one clip out, against 0.71 and 0.73 for the onset agreement alone, and
unlike that agreement (1.0 on many wrong answers too) it leaves a band of confidences where nine
answers in ten are right.

Alternative: the octave (x2 or /2) whose comb salience under the tempo prior is higher, exactly
double or half the reported tempo as the page's x2 and /2 buttons set it. It is always offered when
it lies in 40-250 BPM: on the development set an octave was the commonest single error (23 of 63
wrong answers, 18 of them the octave offered).

Metric alternative: x3/2 or x2/3 (9 of the 63 wrong answers), whichever has the higher comb salience
under the prior, offered only when that salience is at least half the reported tempo's (METRIC_SHARE,
the rule worker.music.tempo uses for its octave). On the development set it was offered for 19 of
the 118 clips and was right for 4 of them (bench/calibrate.py report).
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
GRID_STEADY_FRAMES = 0.5  # RMS distance of the beats from the grid line, in activation frames
GRID_MAX_CHANGE = 0.02  # the grid may move the comb's tempo by at most this fraction
GRID_MIN_BEATS = 8
METRIC_SHARE = 0.5  # x3/2 or x2/3 is offered when its salience is at least this share of the tempo's


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
    metric_alternative_bpm: float | None = None  # exactly bpm x3/2 or /1.5 (x2/3), when plausible


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
    found = likelier(acf, (bpm * 2.0, bpm / 2.0), fps)
    return round(found[0], 1) if found else None


def salience(acf: np.ndarray, bpms: np.ndarray, fps: float = beatnet.FPS) -> np.ndarray:
    """The prior-weighted comb salience of each of `bpms` over the autocorrelation `acf` (>= 0)."""
    return np.maximum(beats.comb(acf, 60.0 * fps / bpms), 0.0) * beats.prior(bpms)


def likelier(acf: np.ndarray, candidates: tuple[float, ...], fps: float) -> tuple[float, float] | None:
    """The most salient of the `candidates` in MIN_BPM-MAX_BPM, with its salience; None when none is."""
    bpms = np.array([c for c in candidates if MIN_BPM <= c <= MAX_BPM])
    if not len(bpms):
        return None
    scores = salience(acf, bpms, fps)
    best = int(np.argmax(scores))
    return float(bpms[best]), float(scores[best])


def metric(acf: np.ndarray, bpm: float, fps: float = beatnet.FPS) -> float | None:
    """`bpm` x3/2 or /1.5 (to 0.1 BPM), whichever is more salient, when it lies in range and its
    salience is at least METRIC_SHARE of `bpm`'s; None otherwise."""
    found = likelier(acf, (bpm * 1.5, bpm / 1.5), fps)
    own = float(salience(acf, np.array([bpm]), fps)[0])
    if found is None or own <= 0.0 or found[1] < METRIC_SHARE * own:
        return None
    return round(found[0], 1)


def peak_positions(beat: np.ndarray, times: np.ndarray, fps: float) -> np.ndarray:
    """Each beat time's activation peak (within 2 frames), at the centroid of its 3 frames (frames)."""
    positions = []
    for t in times:
        frame = int(round(t * fps))
        low, high = max(0, frame - 2), min(len(beat), frame + 3)
        if high - low < 3:
            continue
        peak = low + int(np.argmax(beat[low:high]))
        around = np.arange(max(0, peak - 1), min(len(beat), peak + 2))
        weights = beat[around] - beat[around].min()
        if weights.sum() > 0:
            positions.append(float(around @ weights / weights.sum()))
    return np.asarray(positions)


def grid_bpm(beat: np.ndarray, times: np.ndarray, bpm: float, fps: float = beatnet.FPS) -> float:
    """`bpm` refined by a line through the beats' activation peaks, when they are steady (module doc)."""
    positions = peak_positions(beat, times, fps)
    if len(positions) < GRID_MIN_BEATS:
        return bpm
    period = 60.0 * fps / bpm
    index = np.round((positions - positions[0]) / period)
    for _ in range(3):  # fit, drop beats more than a frame off the line, twice, then the final fit
        design = np.column_stack([index, np.ones_like(index)])
        slope, intercept = np.linalg.lstsq(design, positions, rcond=None)[0]
        residual = positions - (slope * index + intercept)
        keep = np.abs(residual) <= 1.0
        if keep.sum() < GRID_MIN_BEATS:
            return bpm
        index, positions = index[keep], positions[keep]
    if float(np.sqrt(np.mean(residual[keep] ** 2))) > GRID_STEADY_FRAMES or slope <= 0:
        return bpm
    refined = 60.0 * fps / float(slope)
    return round(refined, 1) if abs(refined / bpm - 1.0) <= GRID_MAX_CHANGE else bpm


def choose(activations: np.ndarray, onset: onset_tempo.TempoEstimate, fps: float = beatnet.FPS) -> Choice:
    """The reported tempo from BeatNet's activations and the onset estimate of the same clip."""
    learned = beats.from_activations(activations, fps)
    # Without onsets (silence, a constant) there is no tempo: the network's activations are never
    # quite flat, and their faint ripple would still give one.
    bpm = beats.fuse(learned, onset.bpm, onset.confidence) if onset.bpm is not None else None
    if bpm is None:
        return Choice(None, 0.0, None, np.zeros(0), learned, onset, None)
    beat = activations.sum(axis=1)
    acf = beats.autocorrelation(beat)
    from_learned = learned.bpm is not None and bpm == learned.bpm
    times = learned.beats if from_learned else onset.beats
    if learned.bpm is not None:
        # The decimals come from the learned beat grid, also when the onset estimator chose its
        # octave: the onset tempo's own decimals are coarser (docs/accuracy.md).
        factor = 1.0 if from_learned else (2.0 if bpm > learned.bpm else 0.5)
        bpm = round(grid_bpm(beat, learned.beats, learned.bpm, fps) * factor, 1)
    measures = Measures(
        agree=same_tempo(learned.bpm, onset.bpm),
        pulse=onset.confidence,
        periodicity=periodicity(acf, bpm, fps) if learned.bpm is not None else 0.0,
    )
    alternative = octave(acf, bpm, fps) if learned.bpm is not None else onset.alternative_bpm
    metric_alternative = metric(acf, bpm, fps) if learned.bpm is not None else None
    return Choice(
        bpm, round(confidence(measures), 3), alternative, times, learned, onset, measures, metric_alternative
    )


def estimate(samples: np.ndarray, sample_rate: int) -> Choice:
    onset = onset_tempo.estimate(samples, sample_rate)
    return choose(beatnet.activations(samples, sample_rate), onset)
