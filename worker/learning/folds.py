"""Fitting a few parameters on labelled recordings, and judging them on held-out folds (issue 27).

The real development set is small (146 clips, 27 of them outside our genres), so what is fitted on it
is kept to a few numbers (the outside detector's weights, worker.heads.outside; the genre prototypes,
worker.heads.fewshot) and judged only on clips the fit did not see: `held_out` fits once per fold on
the other folds and scores that fold's clips with it, so every clip gets exactly one held-out
verdict. The folds are the manifest's `fold` column (bench/realset.py: artist-disjoint where the
artist is known; GTZAN has no artist list, so its folds are blocks of 20 ids, which keeps most of an
artist's consecutive excerpts together but is not a guarantee).

Plain NumPy: logistic regression by iteratively reweighted least squares with an L2 penalty on
standardised figures, the classes weighted equally (27 outside songs must not be outvoted by 119 in
genre), so 0.5 is the point where missing an outside song and flagging an in-genre one cost the same.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import replace
from typing import TypeVar

import numpy as np

from worker.heads.outside import Detector

Model = TypeVar("Model")
Result = TypeVar("Result")

DEFAULT_L2 = 1.0  # penalty on standardised weights: a handful of figures, a few dozen outside songs


def held_out(
    folds: Sequence[Hashable],
    fit: Callable[[list[int]], Model],
    score: Callable[[Model, int], Result],
) -> list[Result]:
    """Each item scored by a model fitted without its fold: `fit(training indices)` once per fold,
    then `score(model, index)` for that fold's items. Results in the items' order."""
    if len(set(folds)) < 2:
        raise ValueError("held-out scores need at least two folds")
    results: dict[int, Result] = {}
    for fold in sorted(set(folds), key=str):
        train = [i for i, f in enumerate(folds) if f != fold]
        model = fit(train)
        for i, f in enumerate(folds):
            if f == fold:
                results[i] = score(model, i)
    return [results[i] for i in range(len(folds))]


def fit_logistic(
    x: np.ndarray, y: np.ndarray, *, l2: float = DEFAULT_L2, balanced: bool = True, iterations: int = 50
) -> tuple[np.ndarray, float]:
    """(weights, bias) of P(y=1 | x) = sigmoid(x @ w + b), by IRLS; the bias is not penalised.
    balanced: both classes weigh the same in total."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    if x.ndim != 2 or len(x) != len(y):
        raise ValueError("x must be (n, k) and y (n,)")
    if y.min() == y.max():
        raise ValueError("both classes are needed to fit")
    sample = np.ones(len(y))
    if balanced:
        positives = y.sum()
        sample = np.where(y > 0, len(y) / (2 * positives), len(y) / (2 * (len(y) - positives)))
    design = np.hstack([x, np.ones((len(x), 1))])
    penalty = np.full(design.shape[1], l2)
    penalty[-1] = 0.0
    beta = np.zeros(design.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ beta, -50, 50)))
        w = sample * p * (1 - p)
        gradient = design.T @ (sample * (y - p)) - penalty * beta
        hessian = design.T @ (design * w[:, None]) + np.diag(penalty) + 1e-9 * np.eye(len(beta))
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if np.max(np.abs(step)) < 1e-10:
            break
    return beta[:-1], float(beta[-1])


def fit_detector(
    figures: Sequence[Mapping[str, float]],
    outside: Sequence[bool],
    features: Sequence[str],
    *,
    l2: float = DEFAULT_L2,
    max_in_genre_flagged: float | None = None,
    threshold_folds: Sequence[Hashable] | None = None,
) -> Detector:
    """The outside detector fitted on these songs' evidence figures (worker.heads.outside).

    It flags at 0.5 (equal costs), or, given `max_in_genre_flagged`, at the lowest probability that
    flags no more than that share of these in-genre songs (`fit_flag_at`). Those probabilities are
    the fitted detector's own on the songs it was fitted on, which flatter it (a new song's in-genre
    probabilities run higher); given `threshold_folds` (one per song), each song's probability comes
    instead from a detector fitted without its fold, as a new song's would."""
    detector = _fit_weights(figures, outside, features, l2)
    if max_in_genre_flagged is None:
        return detector
    if threshold_folds is None:
        probabilities = [detector.probability(f) for f in figures]
    else:
        probabilities = held_out(
            threshold_folds,
            lambda train: _fit_weights(
                [figures[i] for i in train], [outside[i] for i in train], features, l2
            ),
            lambda inner, i: inner.probability(figures[i]),
        )
    return replace(detector, flag_at=fit_flag_at(probabilities, list(outside), max_in_genre_flagged))


def _fit_weights(
    figures: Sequence[Mapping[str, float]], outside: Sequence[bool], features: Sequence[str], l2: float
) -> Detector:
    x = np.array([[float(f[name]) for name in features] for f in figures], np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    weights, bias = fit_logistic((x - mean) / scale, np.asarray(outside, bool), l2=l2)
    return Detector(
        tuple(features),
        tuple(float(v) for v in mean),
        tuple(float(v) for v in scale),
        tuple(float(v) for v in weights),
        bias,
    )


def fit_flag_at(
    probabilities: Sequence[float], outside: Sequence[bool], max_in_genre_flagged: float
) -> float:
    """The lowest threshold (flag when probability >= it) that flags at most this share of the
    in-genre songs: as many outside songs as that allows. A threshold just above an in-genre song's
    probability, so that song is not flagged."""
    inside = np.sort(
        np.asarray([p for p, o in zip(probabilities, outside, strict=True) if not o], np.float64)
    )
    if not len(inside):
        raise ValueError("in-genre songs are needed to fit the threshold")
    allowed = int(np.floor(max_in_genre_flagged * len(inside) + 1e-9))
    if allowed >= len(inside):
        return 0.0
    # flag the `allowed` highest in-genre songs at most: just above the next one down
    return float(np.nextafter(inside[len(inside) - 1 - allowed], np.inf))


TEMPERATURES = tuple(float(t) for t in np.geomspace(0.02, 2.0, 41))


def fit_temperature(
    base_logp: np.ndarray, evidence: np.ndarray, truth: Sequence[int], grid: Sequence[float] = TEMPERATURES
) -> float:
    """The temperature T of a product of experts, P ∝ exp(base_logp + evidence / T), that gives the
    true genres the highest likelihood: the few-shot head's one free figure, fitted on songs the
    prototypes were not built from (held-out probabilities, as a new song's). base_logp and evidence
    are (songs, genres); truth holds each song's genre index."""
    base_logp = np.asarray(base_logp, np.float64)
    evidence = np.asarray(evidence, np.float64)
    rows = np.arange(len(truth))

    def nll(t: float) -> float:
        z = base_logp + evidence / t
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-logp[rows, np.asarray(truth)].mean())

    return min(grid, key=nll)
