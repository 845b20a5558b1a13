"""Read half of a clip's patches, and the rest only when the top genre or the outside verdict is in doubt.

musicnn's clip output is the mean of its patch outputs, and the model's cost is linear in the number
of patches (10 for a 30 s excerpt). The first stage reads every other patch, spread over the whole
excerpt (`worker.audio.features.spread`); the genre head scores their mean. The question is then whether
reading the other half could change the top genre. That is a one-sided test of a statistic of a sample
drawn without replacement from a finite population (the clip's patches):

- the statistic is the margin m = log(p_top / p_second) between the two most likely genres;
- its standard error is the jackknife estimate (Efron & Stein 1981; Efron & Tibshirani, "An
  Introduction to the Bootstrap", 1993, ch. 11): the head re-scores the mean with each read patch
  left out in turn, SE = sqrt((k - 1) / k * sum((m_i - mean(m_i))^2));
- sampling half of the patches without replacement shrinks it by the finite population correction
  sqrt((n - k) / (n - 1));
- the top genre is settled when m > t * SE * fpc, t the one-sided 95 % point of Student's t with
  k - 1 degrees of freedom (2.13 for k = 5): the standard error is itself estimated from k values.

The same test guards the other verdict a page shows, "outside our genres", when the caller gives the
head's outside margin (`worker.heads.genre_head.outside_margin`: the signed evidence for flagging, 0 at
the head's decision boundary): the verdict is settled when |margin| > t * SE * fpc, the jackknife
again. A clip is read whole when either verdict is in doubt. Without it a head whose top genre settles
early can flag a song that reading every patch would not, or miss one it would flag (issue 27: two
outside songs lost that way).

Settled: the answer is the first stage's. Not settled: the other half is read and the answer is the
mean over all patches, the same as reading them all at once, so nothing read is wasted. The shown
probabilities of a settled clip are an estimate of the full mean from half of it. `bench/patches.py`
measures how often each happens and how far the answers move.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from worker.audio.features import spread
from worker.backbone.musicnn import BackboneOutput

ENV = "SEVENFOUR_MODEL_EARLY_EXIT"  # "0": always read every patch
# N: read N patches spread over the excerpt and nothing more (no doubt test): the cheap reading measured
# in docs/model.md; unset or empty: half first, the rest while in doubt.
PATCHES_ENV = "SEVENFOUR_MODEL_PATCHES"
CONFIDENCE = 0.95  # one-sided
_FLOOR = 1e-12  # probabilities are floored before the log ratio


@dataclass(frozen=True)
class PatchOutputs:
    """Per-patch backbone outputs, in patch order."""

    msd: np.ndarray  # (k, 50)
    mtt: np.ndarray  # (k, 50)
    embeddings: np.ndarray  # (k, 400)

    def clip(self, rows: np.ndarray | slice = slice(None)) -> BackboneOutput:
        emb = self.embeddings[rows]
        return BackboneOutput(self.msd[rows].mean(axis=0), self.mtt[rows].mean(axis=0), emb.mean(axis=0), emb)

    def take(self, rows: np.ndarray) -> PatchOutputs:
        """The outputs of these patches (rows of the ones held here)."""
        return PatchOutputs(self.msd[rows], self.mtt[rows], self.embeddings[rows])

    def joined(self, rows: np.ndarray, other: PatchOutputs, other_rows: np.ndarray) -> PatchOutputs:
        """These outputs (of patches `rows`) and `other`'s (of `other_rows`), in patch order."""
        order = np.argsort(np.concatenate([rows, other_rows]), kind="stable")
        return PatchOutputs(
            np.concatenate([self.msd, other.msd])[order],
            np.concatenate([self.mtt, other.mtt])[order],
            np.concatenate([self.embeddings, other.embeddings])[order],
        )


def enabled() -> bool:
    return os.environ.get(ENV, "1").strip().lower() not in {"0", "false", "no", "off"}


def fixed_patches() -> int | None:
    """The fixed number of patches SEVENFOUR_MODEL_PATCHES asks for; None: read half first."""
    value = os.environ.get(PATCHES_ENV, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{PATCHES_ENV} must be a whole number of patches (1 or more), not {value!r}")
    return int(value)


def first_stage(n: int, count: int | None = None) -> np.ndarray:
    """Indices of the patches read first: `count` of them (default half, rounded up), evenly spread."""
    return spread(np.arange(n), (n + 1) // 2 if count is None else min(n, max(2, count)))


def margin(probs: np.ndarray, top: int, second: int) -> float:
    return math.log(max(float(probs[top]), _FLOOR) / max(float(probs[second]), _FLOOR))


def critical_value(read: int, confidence: float = CONFIDENCE) -> float:
    """Student's t quantile for a jackknife standard error from `read` values (read - 1 degrees of freedom)."""
    from scipy.special import stdtrit

    return float(stdtrit(read - 1, confidence))


def settled(observed: float, left_out: np.ndarray, total: int, confidence: float = CONFIDENCE) -> bool:
    """Whether a statistic read on len(left_out) of `total` patches is surely above 0: `observed`, its
    value on all patches read, against the jackknife standard error from `left_out`, its values with
    each read patch left out in turn (see the module doc)."""
    read = len(left_out)
    if read >= total:
        return True
    if read < 2 or observed <= 0.0:
        return False
    se = math.sqrt((read - 1) / read * float(np.sum((left_out - left_out.mean()) ** 2)))
    fpc = math.sqrt((total - read) / (total - 1))
    return observed > critical_value(read, confidence) * se * fpc


def top_genre_settled(
    read: int,
    total: int,
    score: Callable[[np.ndarray], np.ndarray],
    confidence: float = CONFIDENCE,
    *,
    probs: np.ndarray | None = None,
) -> bool:
    """Whether the `read` patches already decide the top genre of all `total` (see the module doc).

    score(rows): the head's genre probabilities for the mean of those rows of the patches read;
    probs: score(all of them), when the caller has it already.
    """
    if read >= total:
        return True
    if read < 2:
        return False
    rows = np.arange(read)
    if probs is None:
        probs = score(rows)
    order = np.argsort(probs)[::-1]
    top, second = int(order[0]), int(order[1])
    left_out = np.array([margin(score(rows[rows != i]), top, second) for i in rows])
    return settled(margin(probs, top, second), left_out, total, confidence)


def outside_settled(
    read: int,
    total: int,
    outside: Callable[[np.ndarray], float],
    confidence: float = CONFIDENCE,
    *,
    observed: float | None = None,
) -> bool:
    """Whether the `read` patches already decide the outside verdict of all `total`: outside(rows) is
    the head's outside margin for the mean of those rows of the patches read (> 0: flagged);
    observed: outside(all of them), when the caller has it already."""
    if read >= total:
        return True
    rows = np.arange(read)
    if observed is None:
        observed = outside(rows)
    sign = 1.0 if observed >= 0.0 else -1.0
    left_out = np.array([sign * outside(rows[rows != i]) for i in rows])
    return settled(sign * observed, left_out, total, confidence)


def read_clip(
    patches: np.ndarray,
    read: Callable[[np.ndarray], PatchOutputs],
    predict: Callable[[BackboneOutput, np.ndarray], np.ndarray],
    *,
    early_exit: bool = True,
    first: int | None = None,
    outside: Callable[[BackboneOutput], float | None] | None = None,
) -> tuple[BackboneOutput, np.ndarray, int]:
    """A clip's backbone output, a head's genre probabilities for it and how many patches were read:
    half of them first (or `first` of them), the rest only when the top genre, or the outside verdict
    given `outside`, is still in doubt (all at once without early_exit). read(rows): the backbone's
    outputs for those patches; predict: the head's; outside: the head's outside margin (None: the head
    has no outside verdict to guard)."""
    total = len(patches)
    rows = first_stage(total, first) if early_exit else np.arange(total)
    outputs = read(rows)
    output = outputs.clip()
    probs = np.asarray(predict(output, patches[rows]))

    def score(subset: np.ndarray) -> np.ndarray:
        return np.asarray(predict(outputs.clip(subset), patches[rows[subset]]))

    def in_doubt() -> bool:
        if not top_genre_settled(len(rows), total, score, probs=probs):
            return True
        observed = None if outside is None else outside(output)
        if outside is None or observed is None:
            return False
        return not outside_settled(
            len(rows), total, lambda subset: outside(outputs.clip(subset)) or 0.0, observed=observed
        )

    if len(rows) < total and in_doubt():
        rest = np.setdiff1d(np.arange(total), rows)
        outputs = outputs.joined(rows, read(rest), rest)
        rows = np.arange(total)
        output = outputs.clip()
        probs = np.asarray(predict(output, patches[rows]))
    return output, probs, len(rows)


def read_fixed(
    patches: np.ndarray,
    read: Callable[[np.ndarray], PatchOutputs],
    predict: Callable[[BackboneOutput, np.ndarray], np.ndarray],
    count: int,
) -> tuple[BackboneOutput, np.ndarray, int]:
    """As read_clip, but `count` patches spread over the excerpt (all of them if fewer) and no second
    stage: the same cost for every clip, whatever its doubt."""
    rows = spread(np.arange(len(patches)), min(count, len(patches)))
    output = read(rows).clip()
    return output, np.asarray(predict(output, patches[rows])), len(rows)
