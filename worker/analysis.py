"""Tempo and musical key of an excerpt: the public entry points the predictor calls.

Tempo: worker.music.tempo_choice, BeatNet's learned beat activations (worker.music.beatnet, decoded by
worker.music.beats) fused with the onset estimator (worker.music.tempo: onset periodicity with Ellis's
metrical support and log-Gaussian prior), with a confidence calibrated on real recordings. Key:
worker.music.key (full-range and bass chroma against
Krumhansl-Kessler profiles, mode by the third and the sixth); docs/accuracy.md measures them.
`Tempo.bpm`/`confidence` and `Key.name`/`confidence` keep their meaning; later fields were added.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from worker.music import key as key_estimation
from worker.music import tempo_choice

NOTES = key_estimation.NOTES
MAJOR_PROFILE = key_estimation.MAJOR_PROFILE
MINOR_PROFILE = key_estimation.MINOR_PROFILE
key_scores = key_estimation.profile_scores


@dataclass(frozen=True)
class Tempo:
    bpm: float | None
    confidence: float  # 0..1: the calibrated probability that bpm is within 4 % of the true tempo
    alternative_bpm: float | None = None  # the likelier octave: exactly bpm x2 or /2, when in range
    beats: tuple[float, ...] = field(default=(), repr=False)  # beat times in seconds from the excerpt start
    # The bar (issue 24): the downbeats (each a member of `beats`) and how many beats a bar holds.
    downbeats: tuple[float, ...] = field(default=(), repr=False)
    beats_per_bar: int | None = None
    # The onset estimator's agreement across the clip (0..1): how steady a pulse the audio has.
    # worker.musicness reads it to tell speech from music; it is not the tempo's confidence.
    pulse: float = 0.0
    # The likelier of x3/2 and x2/3 when plausible (worker.music.tempo_choice.metric): exactly
    # round(bpm * 1.5, 1) or round(bpm / 1.5, 1).
    metric_alternative_bpm: float | None = None


@dataclass(frozen=True)
class Key:
    name: str | None  # e.g. "A minor"
    confidence: float  # 0..1: tonic margin times how clearly the third decided the mode
    alternatives: tuple[tuple[str, float], ...] = ()  # relative, parallel, fifths; most likely first


def estimate_tempo(samples: np.ndarray, sample_rate: int, *, mel_power: np.ndarray | None = None) -> Tempo:
    """BPM, confidence, octave alternative, beat times and the bar.

    `mel_power` is accepted for callers written against the earlier version and ignored: the model's
    16 kHz mel at hop 256 with a 512-point FFT is too coarse an onset source (it cost accuracy).
    """
    del mel_power
    found = tempo_choice.estimate(samples, sample_rate)
    downbeats, beats_per_bar = bar_of(found)
    return Tempo(
        found.bpm,
        found.confidence,
        found.alternative_bpm,
        tuple(float(t) for t in found.beats),
        downbeats,
        beats_per_bar,
        pulse=found.onset.confidence,
        metric_alternative_bpm=found.metric_alternative_bpm,
    )


def bar_of(found: tempo_choice.Choice) -> tuple[tuple[float, ...], int | None]:
    """The downbeats and beats per bar of the reported beat grid, when they are known.

    Only the learned beats carry a bar (worker.music.beats reads it from the downbeat activation);
    when the onset estimator's beats are reported (it chose another octave), the bar is unknown.
    """
    if found.learned.bpm is None or found.beats is not found.learned.beats:
        return (), None
    return tuple(float(t) for t in found.learned.downbeats), found.learned.beats_per_bar


def estimate_key(samples: np.ndarray, sample_rate: int) -> Key:
    found = key_estimation.estimate(samples, sample_rate)
    return Key(found.name, found.confidence, found.alternatives)
