"""Tempo and musical key of an excerpt: the public entry points the predictor calls.

The methods live in worker.music.tempo (onset periodicity with Ellis's metrical support and log-Gaussian
prior, beats by dynamic programming) and worker.music.key (full-range and bass chroma against
Krumhansl-Kessler profiles, mode by the third and the sixth); docs/accuracy.md measures them.
`Tempo.bpm`/`confidence` and `Key.name`/`confidence` keep their meaning; later fields were added.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from worker.music import key as key_estimation
from worker.music import tempo as tempo_estimation

NOTES = key_estimation.NOTES
MAJOR_PROFILE = key_estimation.MAJOR_PROFILE
MINOR_PROFILE = key_estimation.MINOR_PROFILE
key_scores = key_estimation.profile_scores


@dataclass(frozen=True)
class Tempo:
    bpm: float | None
    confidence: float  # 0..1: the winner's margin over the strongest competing tempo
    alternative_bpm: float | None = None  # the octave candidate (x2 or /2) when unsure
    beats: tuple[float, ...] = field(default=(), repr=False)  # beat times in seconds from the excerpt start
    # The bar (issue 24): the downbeats (each a member of `beats`) and how many beats a bar holds.
    downbeats: tuple[float, ...] = field(default=(), repr=False)
    beats_per_bar: int | None = None


@dataclass(frozen=True)
class Key:
    name: str | None  # e.g. "A minor"
    confidence: float  # 0..1: tonic margin times how clearly the third decided the mode
    alternatives: tuple[tuple[str, float], ...] = ()  # relative, parallel, fifths; most likely first


def estimate_tempo(samples: np.ndarray, sample_rate: int, *, mel_power: np.ndarray | None = None) -> Tempo:
    """BPM, confidence, octave alternative and beat times.

    `mel_power` is accepted for callers written against the earlier version and ignored: the model's
    16 kHz mel at hop 256 with a 512-point FFT is too coarse an onset source (it cost accuracy).
    """
    del mel_power
    found = tempo_estimation.estimate(samples, sample_rate)
    return Tempo(found.bpm, found.confidence, found.alternative_bpm, tuple(float(t) for t in found.beats))


def estimate_key(samples: np.ndarray, sample_rate: int) -> Key:
    found = key_estimation.estimate(samples, sample_rate)
    return Key(found.name, found.confidence, found.alternatives)
