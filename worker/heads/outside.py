"""The fitted "outside our genres" detector: a few weights over a few evidence figures (issue 27).

The log-odds head flags a song when its outside hypotheses pass 0.5, a rule with no data behind it:
on the real development set it flagged half the outside songs and a fifth of the in-genre ones. The
detector keeps that posterior as one figure among a few and lets labelled recordings weigh them:

- "outside_logit": logit of the log-odds head's outside posterior (low total evidence, counter-evidence);
- "named_max": the strongest named outside genre's log likelihood ratio (the outside tags' evidence:
  jazz, blues, country, folk ...);
- "disagreement": total variation distance between the genre distributions each tagger gives alone
  (MSD and MTT hear different things in music of neither's genres);
- "prototype_max": cosine similarity to the nearest genre prototype built from real recordings
  (a song unlike every genre's examples; needs no tag, so it can catch reggae);
- "outside_prototype_max": cosine similarity to the nearest outside-genre prototype (reggae, country
  ... from real recordings; a song like known outside songs).

P(outside | figures) = sigmoid(bias + sum w_i (x_i - mean_i) / scale_i); flagged at `flag_at`.
The weights are fitted on labelled recordings by worker.learning.folds, which reports held-out
folds. This module only applies them: plain NumPy, no fitting, no artifact I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

FEATURES = ("outside_logit", "named_max", "disagreement", "prototype_max", "outside_prototype_max")
LOGIT_CLIP = 10.0


@dataclass(frozen=True)
class Detector:
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    flag_at: float = 0.5

    def probability(self, figures: Mapping[str, float]) -> float:
        """P(outside our genres) for one song's evidence figures."""
        z = self.bias + sum(
            w * (float(figures[name]) - m) / s
            for name, m, s, w in zip(self.features, self.mean, self.scale, self.weights, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def flags(self, figures: Mapping[str, float]) -> bool:
        return self.probability(figures) >= self.flag_at

    def to_spec(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "mean": [round(v, 6) for v in self.mean],
            "scale": [round(v, 6) for v in self.scale],
            "weights": [round(v, 6) for v in self.weights],
            "bias": round(self.bias, 6),
            "flag_at": round(self.flag_at, 6),
        }

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Detector:
        features = tuple(spec["features"])
        unknown = [f for f in features if f not in FEATURES]
        if unknown:
            raise ValueError(f"unknown outside-detector features {unknown}; expected some of {FEATURES}")
        mean, scale, weights = (tuple(float(v) for v in spec[key]) for key in ("mean", "scale", "weights"))
        if any(len(c) != len(features) for c in (mean, scale, weights)):
            raise ValueError("the outside detector needs one mean, scale and weight per feature")
        return cls(features, mean, scale, weights, float(spec["bias"]), float(spec.get("flag_at", 0.5)))


def clipped_logit(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return max(-LOGIT_CLIP, min(LOGIT_CLIP, math.log(p / (1 - p))))


def total_variation(p: Sequence[float] | np.ndarray, q: Sequence[float] | np.ndarray) -> float:
    """Half the L1 distance between two distributions over the same genres (0 = same, 1 = disjoint)."""
    return 0.5 * float(np.abs(np.asarray(p, np.float64) - np.asarray(q, np.float64)).sum())
