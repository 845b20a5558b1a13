"""Model artifacts and the heads that turn backbone outputs into genre probabilities.

An artifact is a folder with `artifact.json` (name, version, kind, labels, display names, and what
the kind needs) and, for trained kinds, a `model.keras`. A new taxonomy is a new artifact folder, not
a code change. Kinds:

- "prototype" (the default since session 8, musicnn-prototypes-7 1.0.0): the log-odds head sharpened by
  genre prototypes built from real recordings (see `PrototypeHead`; bench/outside.py builds it).
- "tag-logodds" (musicnn-logodds-7 2.0.0, the prototype head's base): no training data; each tag's probability becomes a
  likelihood ratio against the tag's training-set prior, genres combine their tags' ratios, and a
  Bayesian posterior over the genres, named outside genres and "none of our genres" gives calibrated
  scores and the outside flag (see `LogOddsHead` and worker/heads/logodds.py, which builds the artifact).
- "tag-mapping" (musicnn-zeroshot-7 1.0.0): each genre scores the highest clip-level probability
  among its musicnn tags, and the scores are normalised to sum to 1 (see `normalise`).
- "embedding-head": a small Keras classifier over the mean musicnn embedding (400 values).
- "conv1d": the original project's from-scratch Conv1D network over mel patches.

Nothing here imports TensorFlow at module level.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from worker.backbone.musicnn import MSD_TAGS, MTT_TAGS, BackboneOutput
from worker.heads.outside import Detector, clipped_logit, total_variation

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
ZEROSHOT_ARTIFACT_DIR = ARTIFACTS_DIR / "zeroshot-7"
LOGODDS_ARTIFACT_DIR = ARTIFACTS_DIR / "logodds-7"
# The shipped default: prototypes from real recordings over the log-odds head (docs/model.md).
DEFAULT_ARTIFACT_DIR = ARTIFACTS_DIR / "prototypes-7"
ARTIFACT_FILE = "artifact.json"
KINDS = ("tag-logodds", "tag-mapping", "embedding-head", "conv1d", "prototype")
# What `outside` says for a song that is none of our genres and that no tag names (reggae).
OUTSIDE_UNNAMED = "none"
TAGGERS = ("msd", "mtt")
# Decades say when, not what: leave them out of the descriptive tags.
_DECADE = re.compile(r"^\d0s$")


class ArtifactError(Exception):
    pass


@dataclass(frozen=True)
class Artifact:
    path: Path
    name: str
    version: str
    kind: str
    labels: tuple[str, ...]
    display_names: tuple[str, ...]
    spec: dict[str, Any] = field(repr=False)

    @property
    def model_file(self) -> Path:
        return self.path / self.spec.get("model_file", "model.keras")

    def info(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "kind": self.kind,
            "labels": list(self.labels),
            "display_names": list(self.display_names),
        }


def load_artifact(path: str | Path | None = None) -> Artifact:
    path = Path(path) if path is not None else DEFAULT_ARTIFACT_DIR
    try:
        spec = json.loads((path / ARTIFACT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"no readable {ARTIFACT_FILE} in {path}: {exc}") from exc
    labels, names = tuple(spec["labels"]), tuple(spec.get("display_names") or spec["labels"])
    if spec.get("kind") not in KINDS:
        raise ArtifactError(f"{path}: unknown kind {spec.get('kind')!r}; expected one of {KINDS}")
    if len(labels) != len(names) or len(set(labels)) != len(labels):
        raise ArtifactError(f"{path}: labels and display_names must be unique and the same length")
    return Artifact(path.resolve(), spec["name"], str(spec["version"]), spec["kind"], labels, names, spec)


def write_artifact(path: Path, spec: dict[str, Any]) -> Artifact:
    path.mkdir(parents=True, exist_ok=True)
    (path / ARTIFACT_FILE).write_text(json.dumps(spec, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return load_artifact(path)


# --- scores --------------------------------------------------------------------------------


def tag_probabilities(output: BackboneOutput) -> dict[tuple[str, str], float]:
    """Clip-level probability for each (model, tag): ("msd", "rock"), ("mtt", "piano"), ..."""
    probs = {("msd", tag): float(p) for tag, p in zip(MSD_TAGS, output.msd, strict=True)}
    probs.update({("mtt", tag): float(p) for tag, p in zip(MTT_TAGS, output.mtt, strict=True)})
    return probs


def max_tag_score(probs: dict[tuple[str, str], float], tags: dict[str, list[str]]) -> float:
    """The highest probability among the listed MSD and MTT tags (0 when none are listed)."""
    scores = [probs[(model, tag)] for model in ("msd", "mtt") for tag in tags.get(model, [])]
    return max(scores, default=0.0)


def normalise(scores: np.ndarray, method: dict[str, Any]) -> np.ndarray:
    """Turn non-negative scores into probabilities that sum to 1.

    "sum" divides each score by the total: a genre's share of the tag evidence. "softmax" uses
    exp(score / temperature). Neither is calibrated against listeners; the UI says so.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if method.get("method", "sum") == "softmax":
        z = scores / float(method.get("temperature", 0.1))
        weights = np.exp(z - z.max())
    else:
        weights = np.clip(scores, 0.0, None)
    total = weights.sum()
    if not np.isfinite(total) or total <= 0:
        return np.full(len(scores), 1.0 / len(scores))
    return weights / total


def descriptive_tags(output: BackboneOutput, k: int = 8) -> list[tuple[str, float]]:
    """The strongest tags of both taggers, merged by name (lower case), without decades."""
    merged: dict[str, float] = {}
    for (_, tag), prob in tag_probabilities(output).items():
        name = tag.lower()
        if not _DECADE.match(name):
            merged[name] = max(prob, merged.get(name, 0.0))
    ranked = sorted(merged.items(), key=lambda item: item[1], reverse=True)
    return [(name, round(prob, 4)) for name, prob in ranked[:k]]


def outside_taxonomy(output: BackboneOutput, spec: dict[str, Any], top_genre_score: float) -> str | None:
    """A genre outside the taxonomy (e.g. "jazz") when its tags are strong, else None.

    Flagged when its best tag reaches `min_probability` and at least `min_ratio_to_top_genre`
    times the strongest in-taxonomy genre score: the page can then say "closest of our genres: X;
    this sounds like jazz".
    """
    config = spec.get("outside_taxonomy") or load_artifact(ZEROSHOT_ARTIFACT_DIR).spec["outside_taxonomy"]
    probs = tag_probabilities(output)
    scores = {name: max_tag_score(probs, tags) for name, tags in config["tags"].items()}
    if not scores:
        return None
    name, score = max(scores.items(), key=lambda item: item[1])
    strong = score >= config.get("min_probability", 0.2)
    return name if strong and score >= config.get("min_ratio_to_top_genre", 0.75) * top_genre_score else None


# --- heads ---------------------------------------------------------------------------------


class TagMappingHead:
    def __init__(self, artifact: Artifact) -> None:
        self.artifact = artifact
        self.mapping: dict[str, dict[str, list[str]]] = artifact.spec["tag_mapping"]
        known = {("msd", t) for t in MSD_TAGS} | {("mtt", t) for t in MTT_TAGS}
        for label in artifact.labels:
            for model, tags in self.mapping[label].items():
                unknown = [t for t in tags if (model, t) not in known]
                if unknown:
                    raise ArtifactError(f"{artifact.path}: unknown {model} tags for {label}: {unknown}")

    def raw_scores(self, output: BackboneOutput) -> np.ndarray:
        probs = tag_probabilities(output)
        return np.array([max_tag_score(probs, self.mapping[label]) for label in self.artifact.labels])

    def predict(self, output: BackboneOutput, patches: np.ndarray) -> np.ndarray:
        return normalise(self.raw_scores(output), self.artifact.spec.get("normalisation", {}))


@dataclass(frozen=True)
class Posterior:
    """P(hypothesis | clip) over the genres, the named outside genres and "none of our genres"."""

    genres: np.ndarray  # joint with "in the taxonomy": sums to 1 - outside
    named: dict[str, float]
    unnamed: float
    named_log_lr: dict[str, float]

    @property
    def outside(self) -> float:
        return float(self.unnamed + sum(self.named.values()))

    @property
    def in_taxonomy(self) -> np.ndarray:
        """The genre scores shown: P(genre | clip, the song is one of ours); they sum to 1."""
        return self.genres / self.genres.sum()


def _logsumexp(values: np.ndarray, weights: np.ndarray) -> float:
    top = float(values.max())
    return top + float(np.log(np.sum(weights * np.exp(values - top))))


class LogOddsHead:
    """Weighted log-odds of the mapped tags against their priors, as a Bayesian posterior.

    See worker/heads/logodds.py for why logit(p) - logit(prior) is a tag's likelihood ratio and how the
    priors were obtained. Scores need no TensorFlow beyond the backbone's outputs.
    """

    def __init__(self, artifact: Artifact) -> None:
        self.artifact = artifact
        spec = artifact.spec
        self.clip = float(spec.get("log_lr_clip", 6.0))
        self.temperature = float(spec.get("temperature", 1.0))
        self.priors = {
            (model, tag): float(values["prior"])
            for model, tags in spec["tag_priors"].items()
            for tag, values in tags.items()
        }
        known = {("msd", t) for t in MSD_TAGS} | {("mtt", t) for t in MTT_TAGS}
        self.genres: dict[str, dict[str, Any]] = spec["genres"]
        self.named: dict[str, dict[str, dict[str, float]]] = spec["outside"]["named"]
        groups = [self.genres[label] for label in artifact.labels] + list(self.named.values())
        for group in groups:
            for model, tags in [*_tag_groups(group), *_tag_groups(group.get("against", {}))]:
                unknown = [t for t in tags if (model, t) not in known or (model, t) not in self.priors]
                if unknown:
                    raise ArtifactError(f"{artifact.path}: unknown {model} tags {unknown}")

    def tag_log_lr(self, output: BackboneOutput) -> dict[tuple[str, str], float]:
        """log odds(p) - log odds(prior) per (model, tag), clipped: the evidence each tag carries."""
        eps = 1e-6
        out = {}
        for key, p in tag_probabilities(output).items():
            if key not in self.priors:  # a one-tagger artifact: the other tagger's tags are not read
                continue
            p = min(max(p, eps), 1 - eps)
            prior = self.priors[key]
            value = math.log(p / (1 - p)) - math.log(prior / (1 - prior))
            out[key] = max(-self.clip, min(self.clip, value))
        return out

    def group_log_lr(
        self, lrs: dict[tuple[str, str], float], group: dict[str, Any], taggers: tuple[str, ...] = TAGGERS
    ) -> float:
        """One hypothesis' log LR: a weighted mixture of its tags per tagger, the taggers pooled by
        the mean of their log LRs, minus the evidence of its "against" tags above their prior.
        `taggers` restricts it to those taggers' tags (a hypothesis left without tags has log LR 0)."""
        per_tagger = []
        for model, tags in _tag_groups(group, taggers):
            weights = np.array([float(w) for w in tags.values()])
            values = np.array([lrs[(model, t)] for t in tags])
            per_tagger.append(_logsumexp(values, weights / weights.sum()))
        against = sum(
            float(v) * max(0.0, lrs[(model, t)])
            for model, tags in _tag_groups(group.get("against", {}), taggers)
            for t, v in tags.items()
        )
        return (float(np.mean(per_tagger)) if per_tagger else 0.0) - against

    def posterior(self, output: BackboneOutput, taggers: tuple[str, ...] = TAGGERS) -> Posterior:
        """The posterior over every hypothesis; `taggers` hears only those taggers' tags."""
        lrs = self.tag_log_lr(output)
        shares = self.artifact.spec["hypothesis_priors"]
        labels = self.artifact.labels
        genre_lr = np.array([self.group_log_lr(lrs, self.genres[label], taggers) for label in labels])
        named_lr = {name: self.group_log_lr(lrs, group, taggers) for name, group in self.named.items()}
        log_post = np.concatenate(
            [
                math.log(shares["in_taxonomy"] / len(labels)) + genre_lr / self.temperature,
                [
                    math.log(shares["outside_named"] / max(1, len(named_lr))) + v / self.temperature
                    for v in named_lr.values()
                ],
                [math.log(shares["outside_unnamed"])],
            ]
        )
        post = np.exp(log_post - log_post.max())
        post /= post.sum()
        n = len(labels)
        named = {name: float(p) for name, p in zip(named_lr, post[n : n + len(named_lr)], strict=True)}
        return Posterior(post[:n], named, float(post[-1]), named_lr)

    def predict(self, output: BackboneOutput, patches: np.ndarray) -> np.ndarray:
        return self.posterior(output).in_taxonomy

    def outside_figures(self, output: BackboneOutput) -> dict[str, float]:
        """The tag evidence the fitted outside detector weighs (worker.heads.outside): the outside
        posterior, the strongest named outside genre, and how far the taggers disagree alone."""
        post = self.posterior(output)
        taggers = [m for m in TAGGERS if any(key[0] == m for key in self.priors)]
        alone = [self.posterior(output, (m,)).in_taxonomy for m in taggers]
        return {
            "outside_logit": clipped_logit(post.outside),
            "named_max": max(post.named_log_lr.values(), default=0.0),
            "disagreement": total_variation(*alone) if len(alone) == 2 else 0.0,
        }

    def outside(
        self,
        output: BackboneOutput,
        detector: Detector | None = None,
        extra_figures: dict[str, float] | None = None,
    ) -> str | None:
        """None when the song is more likely one of ours; else the outside genre a tag names, or
        OUTSIDE_UNNAMED ("none of our seven genres") when no tag supports a name.

        Flagged when the outside hypotheses pass `outside.flag_at`, or, given a fitted `detector`
        (the artifact's `outside.detector`, or a few-shot head's), when the detector says so."""
        post = self.posterior(output)
        detector = self._detector(detector)
        if detector is not None:
            if not detector.flags(self.outside_figures(output) | (extra_figures or {})):
                return None
        elif post.outside < self._flag_at():
            return None
        return self.outside_name(post)

    def outside_margin(
        self,
        output: BackboneOutput,
        detector: Detector | None = None,
        extra_figures: dict[str, float] | None = None,
    ) -> float:
        """How far the clip is from `outside`'s decision on a log-odds scale: > 0 flagged, < 0 not (the
        detector's or the posterior's logit minus the logit of its threshold). The same arguments as
        `outside`."""
        detector = self._detector(detector)
        if detector is not None:
            p = detector.probability(self.outside_figures(output) | (extra_figures or {}))
            return clipped_logit(p) - clipped_logit(detector.flag_at)
        return clipped_logit(self.posterior(output).outside) - clipped_logit(self._flag_at())

    def _detector(self, given: Detector | None) -> Detector | None:
        """The detector that decides: the one given, else the artifact's own, else None (the rule)."""
        spec = self.artifact.spec["outside"]
        return given or (Detector.from_spec(spec["detector"]) if spec.get("detector") else None)

    def _flag_at(self) -> float:
        return float(self.artifact.spec["outside"].get("flag_at", 0.5))

    def outside_name(self, post: Posterior) -> str:
        """The named outside genre when its tags carry evidence for the name (log LR of at least
        `outside.name_min_log_lr`) and it is at least as likely as "none of our genres"; else
        OUTSIDE_UNNAMED: the page then names no outside genre."""
        if post.named:
            name, prob = max(post.named.items(), key=lambda item: item[1])
            supported = post.named_log_lr[name] >= float(
                self.artifact.spec["outside"].get("name_min_log_lr", 1.0)
            )
            if supported and prob >= post.unnamed:
                return name
        return OUTSIDE_UNNAMED


def _tag_groups(
    group: dict[str, Any], taggers: tuple[str, ...] = TAGGERS
) -> list[tuple[str, dict[str, float]]]:
    return [(model, group[model]) for model in taggers if group.get(model)]


class PrototypeHead:
    """Few-shot: a zero-shot base artifact's scores, sharpened by nearest genre prototypes.

    Each genre with labelled examples (admin references, reviewed and user-corrected predictions)
    has a prototype: the mean of their centred, unit-length backbone embeddings. A clip's cosine
    similarity s_g to each prototype adds w_g * s_g / temperature to the base log-probability of g,
    with w_g = n_g / (n_g + shrinkage): one example barely moves the base, twenty nearly replace it
    (a product of experts). Genres without examples keep the base's view. Building the artifact is
    averaging stored embeddings, so it updates without retraining (see worker/heads/fewshot.py).

    Outside our genres: the base head's verdict, and also (unnamed) when the clip is off every
    genre's embedding profile — below each prototype's `min_similarity` (the 5th percentile of its
    own examples) — once every genre has at least `profile_min_examples` examples. An artifact with
    an `outside_detector` (fitted on real recordings, worker.learning.folds) uses it instead: its
    log-odds base's tag evidence plus the similarity to the nearest prototype, weighed by the fitted
    weights. An artifact may also carry `outside_prototypes`: prototypes of outside genres (reggae,
    country ...) built from real recordings. The similarity to the nearest of them is one more figure
    for the detector, and a flagged song nearer to one of them than to any of our genres is named
    after it (given `outside_name_min_examples` examples behind it); otherwise the name comes from the
    base's tags as before.

    `base` is a folder, absolute or relative to the artifact's own (a shipped artifact names its
    shipped base as "../logodds-7").
    """

    def __init__(self, artifact: Artifact) -> None:
        self.artifact = artifact
        spec = artifact.spec
        base = prototype_base(artifact)
        if base.kind == "prototype" or tuple(base.labels) != artifact.labels:
            raise ArtifactError(
                f"{artifact.path}: the base must be a zero-shot artifact with the same labels"
            )
        self.base: Head = load_head(base)
        self.center = np.asarray(spec["center"], dtype=np.float64)
        self.prototypes = {
            label: (np.asarray(p["mean"], dtype=np.float64), int(p["count"]))
            for label, p in spec["prototypes"].items()
        }
        self.outside_prototypes = {
            label: (np.asarray(p["mean"], dtype=np.float64), int(p["count"]))
            for label, p in spec.get("outside_prototypes", {}).items()
        }
        self.temperature = float(spec.get("temperature", 0.1))
        self.shrinkage = float(spec.get("shrinkage", 5.0))
        detector = spec.get("outside_detector")
        self.detector = Detector.from_spec(detector) if detector else None
        if self.detector is not None and not isinstance(self.base, LogOddsHead):
            raise ArtifactError(f"{artifact.path}: an outside_detector needs a tag-logodds base")
        if (
            self.detector is not None
            and not self.outside_prototypes
            and ("outside_prototype_max" in self.detector.features)
        ):
            raise ArtifactError(
                f"{artifact.path}: the outside_detector weighs outside_prototypes it has none of"
            )

    def _similarities(
        self, output: BackboneOutput, prototypes: dict[str, tuple[np.ndarray, int]]
    ) -> dict[str, float]:
        e = np.asarray(output.embedding, dtype=np.float64) - self.center
        e = e / (np.linalg.norm(e) or 1.0)
        return {label: float(e @ proto) for label, (proto, _) in prototypes.items()}

    def similarities(self, output: BackboneOutput) -> dict[str, float]:
        return self._similarities(output, self.prototypes)

    def outside_similarities(self, output: BackboneOutput) -> dict[str, float]:
        return self._similarities(output, self.outside_prototypes)

    def evidence(self, output: BackboneOutput) -> np.ndarray:
        """Each genre's prototype evidence before the temperature: w_g * s_g, in label order (0 for
        a genre without examples)."""
        labels = list(self.artifact.labels)
        evidence = np.zeros(len(labels))
        for label, sim in self.similarities(output).items():
            count = self.prototypes[label][1]
            evidence[labels.index(label)] = count / (count + self.shrinkage) * sim
        return evidence

    def predict(self, output: BackboneOutput, patches: np.ndarray) -> np.ndarray:
        base = np.clip(np.asarray(self.base.predict(output, patches), dtype=np.float64), 1e-9, 1.0)
        logp = np.log(base) + self.evidence(output) / self.temperature
        probs = np.exp(logp - logp.max())
        return probs / probs.sum()

    def prototype_max(self, output: BackboneOutput) -> float:
        """Cosine similarity to the nearest genre prototype (-1 without prototypes)."""
        return max(self.similarities(output).values(), default=-1.0)

    def prototype_figures(self, output: BackboneOutput) -> dict[str, float]:
        """The outside detector's figures from the prototypes: the similarity to the nearest genre
        prototype and, when the artifact has outside prototypes, to the nearest of those."""
        figures = {"prototype_max": self.prototype_max(output)}
        if self.outside_prototypes:
            figures["outside_prototype_max"] = max(self.outside_similarities(output).values())
        return figures

    def outside_prototype_name(self, output: BackboneOutput) -> str | None:
        """The outside genre whose prototype is the nearest of all, ours included, when enough
        recordings stand behind it; else None (no prototype evidence for a name)."""
        sims = self.outside_similarities(output)
        if not sims:
            return None
        label = max(sims, key=lambda name: sims[name])
        minimum = int(self.artifact.spec.get("outside_name_min_examples", 3))
        enough = self.outside_prototypes[label][1] >= minimum
        return label if enough and sims[label] > self.prototype_max(output) else None

    def off_profile(self, output: BackboneOutput) -> bool:
        """True when every genre has enough examples and the clip is far from all their profiles."""
        minimum = int(self.artifact.spec.get("profile_min_examples", 5))
        specs = self.artifact.spec["prototypes"]
        if set(specs) != set(self.artifact.labels) or any(p["count"] < minimum for p in specs.values()):
            return False
        sims = self.similarities(output)
        return all(sims[label] < float(specs[label].get("min_similarity", -1.0)) for label in specs)


def prototype_base(artifact: Artifact) -> Artifact:
    """A few-shot artifact's base artifact (`base`: absolute, or relative to the artifact's folder)."""
    return load_artifact(artifact.path / artifact.spec["base"])


class KerasHead:
    """A trained Keras classifier with a softmax output (its outputs already sum to 1)."""

    def __init__(self, artifact: Artifact) -> None:
        import keras

        self.artifact = artifact
        self.model = keras.models.load_model(artifact.model_file, compile=False)

    def predict(self, output: BackboneOutput, patches: np.ndarray) -> np.ndarray:
        inputs = output.embedding[np.newaxis, :] if self.artifact.kind == "embedding-head" else patches
        probs = np.asarray(self.model(inputs, training=False), dtype=np.float64).mean(axis=0)
        return probs / probs.sum()


Head = LogOddsHead | TagMappingHead | KerasHead | PrototypeHead


def load_head(artifact: Artifact) -> Head:
    if artifact.kind == "tag-logodds":
        return LogOddsHead(artifact)
    if artifact.kind == "prototype":
        return PrototypeHead(artifact)
    return TagMappingHead(artifact) if artifact.kind == "tag-mapping" else KerasHead(artifact)


def head_outside(head: Head, output: BackboneOutput, probs: np.ndarray) -> str | None:
    """The outside-our-genres verdict of any head: the log-odds head's own detector, else the
    tag rule of the 1.0 artifacts (an outside tag rivalling the strongest in-taxonomy evidence); a
    few-shot head defers to its base."""
    if isinstance(head, PrototypeHead) and head.detector is not None:
        assert isinstance(head.base, LogOddsHead)  # checked when the head was loaded
        verdict = head.base.outside(output, head.detector, head.prototype_figures(output))
        if verdict is None:
            return None
        return head.outside_prototype_name(output) or verdict
    if isinstance(head, PrototypeHead):
        base = head_outside(head.base, output, np.asarray(head.base.predict(output, np.zeros((0, 187, 96)))))
        return base or (OUTSIDE_UNNAMED if head.off_profile(output) else None)
    if isinstance(head, LogOddsHead):
        return head.outside(output)
    top = float(head.raw_scores(output).max()) if isinstance(head, TagMappingHead) else float(max(probs))
    return outside_taxonomy(output, head.artifact.spec, top)


def outside_margin(head: Head, output: BackboneOutput) -> float | None:
    """How far a clip is from the head's outside decision, on a log-odds scale (> 0 flagged, < 0 not;
    `LogOddsHead.outside_margin`), for the heads `head_outside` decides that way. The sequential reader
    (worker.backbone.sequential) reads every patch while its sign is in doubt. None for heads whose
    outside verdict has no such boundary (the tag-mapping and Keras heads). A few-shot head without a
    detector is guarded on its base's margin, not on its profile rule."""
    if isinstance(head, PrototypeHead) and head.detector is not None:
        assert isinstance(head.base, LogOddsHead)  # checked when the head was loaded
        return head.base.outside_margin(output, head.detector, head.prototype_figures(output))
    if isinstance(head, PrototypeHead):
        return outside_margin(head.base, output)
    if isinstance(head, LogOddsHead):
        return head.outside_margin(output)
    return None
