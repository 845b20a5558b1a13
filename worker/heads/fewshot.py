"""Build few-shot ("prototype") artifacts from labelled backbone outputs; no TensorFlow needed.

A prediction stores its backbone output (tag probabilities and embedding, `backbone_to_dict`), so a
new artifact is built, and any artifact evaluated, from stored rows without audio or the backbone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from worker.backbone.musicnn import BackboneOutput
from worker.heads.genre_head import Artifact, ArtifactError, write_artifact

SHRINKAGE = 5.0  # examples at which the prototype weighs as much as the zero-shot base
TEMPERATURE = 0.1  # cosine similarity units per nat of log-probability
# The outside-by-profile rule: a genre's "expected profile" radius is this quantile of its own
# examples' similarity to its prototype; it needs this many examples of every genre to be trusted.
PROFILE_QUANTILE = 0.05
PROFILE_MIN_EXAMPLES = 5
# An outside genre's prototype names a flagged song only with at least this many examples behind it.
OUTSIDE_NAME_MIN_EXAMPLES = 3


@dataclass(frozen=True)
class Example:
    label: str
    backbone: dict[str, list[float]]  # backbone_to_dict()


def backbone_to_dict(output: BackboneOutput) -> dict[str, list[float]]:
    """The clip-level outputs, rounded to what matters (about 5 KB as JSON)."""
    return {
        "msd": [round(float(v), 6) for v in output.msd],
        "mtt": [round(float(v), 6) for v in output.mtt],
        "embedding": [round(float(v), 5) for v in output.embedding],
    }


def backbone_from_dict(data: dict[str, list[float]]) -> BackboneOutput:
    embedding = np.asarray(data["embedding"], dtype=np.float64)
    return BackboneOutput(
        np.asarray(data["msd"], dtype=np.float64),
        np.asarray(data["mtt"], dtype=np.float64),
        embedding,
        embedding[None, :],
    )


def _profile_radius(rows: np.ndarray) -> float:
    """How close a genre's own songs come to its prototype: the PROFILE_QUANTILE of each example's
    similarity to the prototype of the others (leave-one-out, so not flattered by itself). About
    that share of the genre's songs fall below it, which bounds the in-genre false-flag rate."""
    if len(rows) < 2:
        return -1.0
    others = rows.sum(axis=0)[None, :] - rows
    others /= np.maximum(np.linalg.norm(others, axis=1, keepdims=True), 1e-12)
    return float(np.quantile(np.sum(rows * others, axis=1), PROFILE_QUANTILE))


def _unit_mean(rows: np.ndarray) -> list[float]:
    mean = rows.mean(axis=0)
    mean = mean / (np.linalg.norm(mean) or 1.0)
    return [round(float(v), 6) for v in mean]


def _embeddings_by_label(examples: Sequence[Example]) -> dict[str, np.ndarray]:
    """Each label's stored embeddings (examples without one left out), labels in sorted order."""
    groups: dict[str, list[list[float]]] = {}
    for e in examples:
        if e.backbone.get("embedding"):
            groups.setdefault(e.label, []).append(e.backbone["embedding"])
    return {label: np.asarray(groups[label], dtype=np.float64) for label in sorted(groups)}


def _centred_units(groups: dict[str, np.ndarray], center: np.ndarray) -> dict[str, np.ndarray]:
    """Each label's embeddings (`_embeddings_by_label`) as centred unit vectors."""
    units = {}
    for label, rows in groups.items():
        rows = rows - center
        units[label] = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    return units


def build_prototype_artifact(
    out_dir: Path,
    base: Artifact,
    examples: Sequence[Example],
    *,
    name: str,
    version: str,
    outside_examples: Sequence[Example] = (),
) -> Artifact:
    """A prototype artifact over `base` (a zero-shot artifact), one prototype per labelled genre.

    `outside_examples` are songs of none of our genres, labelled with the outside genre they are
    (reggae, country ...): each such genre gets a prototype too (`outside_prototypes`), in the same
    centred space, so a song near one of them is evidence of that outside genre, tag or no tag."""
    if base.kind == "prototype":
        raise ArtifactError("build on a zero-shot artifact, not on another few-shot one")
    usable = [e for e in examples if e.label in base.labels and e.backbone.get("embedding")]
    if not usable:
        raise ArtifactError("no labelled example with a stored embedding in the artifact's genres")
    # The mean of the genres' means, not of the examples: with 92 classical examples of 119 the
    # examples' mean sits on classical, and classical songs, centred on it, point nowhere in particular.
    groups = _embeddings_by_label(usable)
    center = np.mean([np.mean(rows, axis=0) for rows in groups.values()], axis=0)
    prototypes: dict[str, Any] = {
        label: {
            "count": len(rows),
            "mean": _unit_mean(rows),
            "min_similarity": round(_profile_radius(rows), 6),
        }
        for label, rows in _centred_units(groups, center).items()
    }
    outside = [e for e in outside_examples if e.label not in base.labels]
    outside_prototypes = {
        label: {"count": len(rows), "mean": _unit_mean(rows)}
        for label, rows in _centred_units(_embeddings_by_label(outside), center).items()
    }
    spec = {
        "format": 1,
        "name": name,
        "version": version,
        "kind": "prototype",
        "description": (
            f"Few-shot head over {base.name} {base.version}: nearest genre prototypes on the musicnn "
            "embedding combined with the base's scores (see worker.heads.genre_head.PrototypeHead)."
        ),
        "labels": list(base.labels),
        "display_names": list(base.display_names),
        "base": str(base.path),
        "shrinkage": SHRINKAGE,
        "temperature": TEMPERATURE,
        "center": [round(float(v), 6) for v in center],
        "prototypes": prototypes,
        "profile_min_examples": PROFILE_MIN_EXAMPLES,
    }
    if outside_prototypes:
        spec["outside_prototypes"] = outside_prototypes
        spec["outside_name_min_examples"] = OUTSIDE_NAME_MIN_EXAMPLES
    return write_artifact(out_dir, spec)
