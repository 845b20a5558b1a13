"""Few-shot prototype artifacts (worker.heads.fewshot, worker.heads.genre_head.PrototypeHead): no TensorFlow.

Fake backbone outputs keep every tag at its prior, so the zero-shot base is uniform over the genres
and whatever moves the scores is the prototypes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from worker.backbone.musicnn import MSD_TAGS, MTT_TAGS, BackboneOutput
from worker.heads import fewshot
from worker.heads.genre_head import (
    LOGODDS_ARTIFACT_DIR,
    OUTSIDE_UNNAMED,
    ArtifactError,
    LogOddsHead,
    PrototypeHead,
    head_outside,
    load_artifact,
    load_head,
)

LABELS = ["classical", "dance", "electronica", "pop", "rnb", "rock", "shoegaze"]
RNG = np.random.default_rng(3)
DIRECTIONS = {label: RNG.standard_normal(400) for label in LABELS}


def clip(label: str | None, noise: float = 0.3, seed: int = 0) -> BackboneOutput:
    base = LogOddsHead(load_artifact(LOGODDS_ARTIFACT_DIR))
    rng = np.random.default_rng(seed)
    embedding = (DIRECTIONS[label] if label else np.zeros(400)) + noise * rng.standard_normal(400)
    msd = np.array([base.priors[("msd", t)] for t in MSD_TAGS])
    mtt = np.array([base.priors[("mtt", t)] for t in MTT_TAGS])
    return BackboneOutput(msd, mtt, embedding, embedding[None, :])


def build(tmp_path: Path, counts: dict[str, int]) -> PrototypeHead:
    examples = [
        fewshot.Example(label, fewshot.backbone_to_dict(clip(label, seed=i)))
        for label, n in counts.items()
        for i in range(n)
    ]
    artifact = fewshot.build_prototype_artifact(
        tmp_path / "fs", load_artifact(LOGODDS_ARTIFACT_DIR), examples, name="fs", version="1"
    )
    head = load_head(artifact)
    assert isinstance(head, PrototypeHead)
    return head


def test_a_clip_near_a_prototype_moves_towards_its_genre(tmp_path: Path) -> None:
    head = build(tmp_path, {"rock": 6, "dance": 6})

    probs = head.predict(clip("rock", seed=99), np.zeros((0, 187, 96)))

    assert LABELS[int(np.argmax(probs))] == "rock"
    assert probs.sum() == pytest.approx(1.0)
    # Genres without examples keep the base's (uniform) view relative to each other.
    assert probs[LABELS.index("pop")] == pytest.approx(probs[LABELS.index("shoegaze")])


def test_more_examples_weigh_more(tmp_path: Path) -> None:
    one = build(tmp_path / "one", {"rock": 1, "dance": 1})
    many = build(tmp_path / "many", {"rock": 20, "dance": 20})

    rock = LABELS.index("rock")
    target = clip("rock", seed=99)
    assert many.predict(target, np.zeros(0))[rock] > one.predict(target, np.zeros(0))[rock]


def test_outside_verdict_is_the_bases(tmp_path: Path) -> None:
    head = build(tmp_path, {"rock": 3})
    target = clip("rock", seed=5)

    assert head_outside(head, target, head.predict(target, np.zeros(0))) == head_outside(
        head.base, target, head.base.predict(target, np.zeros(0))
    )


def test_backbone_dict_round_trips() -> None:
    output = clip("pop")

    again = fewshot.backbone_from_dict(fewshot.backbone_to_dict(output))

    np.testing.assert_allclose(again.embedding, output.embedding, atol=1e-5)
    np.testing.assert_allclose(again.msd, output.msd, atol=1e-6)


def test_refuses_no_usable_example_and_a_few_shot_base(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="no labelled example"):
        fewshot.build_prototype_artifact(
            tmp_path / "a", load_artifact(LOGODDS_ARTIFACT_DIR), [], name="x", version="1"
        )
    head = build(tmp_path, {"rock": 2})
    with pytest.raises(ArtifactError, match="zero-shot"):
        fewshot.build_prototype_artifact(tmp_path / "b", head.artifact, [], name="x", version="2")


def test_a_clip_off_every_genre_profile_is_flagged_once_every_genre_has_examples(tmp_path: Path) -> None:
    head = build(tmp_path / "all", dict.fromkeys(LABELS, 6))
    stranger = clip(None, noise=1.0, seed=42)  # no genre's direction: off every profile

    assert head_outside(head, stranger, head.predict(stranger, np.zeros(0))) == OUTSIDE_UNNAMED
    rock = clip("rock", seed=77)
    assert head_outside(head, rock, head.predict(rock, np.zeros(0))) is None


def test_the_profile_rule_waits_for_examples_of_every_genre(tmp_path: Path) -> None:
    head = build(tmp_path / "some", {"rock": 6, "dance": 6})

    assert not head.off_profile(clip(None, noise=1.0, seed=42))
