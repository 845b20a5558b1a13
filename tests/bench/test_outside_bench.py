"""bench/outside.py's candidate on generated backbone outputs: every clip gets a held-out verdict from
a model that never saw its group, and the built artifact carries the outside-genre prototypes. No
audio, no TensorFlow, no accuracy threshold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench import outside
from worker.backbone import sequential
from worker.backbone.musicnn import MSD_TAGS, MTT_TAGS
from worker.heads.genre_head import LogOddsHead, PrototypeHead, load_artifact, load_head
from worker.heads.logodds import LOGODDS_ARTIFACT_DIR
from worker.learning import folds

RNG = np.random.default_rng(11)
STYLES = {  # source label -> our genre, or outside
    "rock": "rock",
    "disco": "dance",
    "reggae": "outside",
    "dub": "outside",
    "country": "outside",
}
DIRECTIONS = {label: RNG.standard_normal(400) for label in ("rock", "disco", "reggae", "country")}


def clip(label: str, n: int, source: str) -> outside.Clip:
    """Six patches whose tags sit at their priors (no tag evidence) and whose embeddings lie around
    the style's direction (dub around reggae's)."""
    head = LogOddsHead(load_artifact(LOGODDS_ARTIFACT_DIR))
    msd = np.tile([head.priors[("msd", t)] for t in MSD_TAGS], (6, 1))
    mtt = np.tile([head.priors[("mtt", t)] for t in MTT_TAGS], (6, 1))
    direction = DIRECTIONS["reggae" if label == "dub" else label]
    emb = direction + 0.4 * np.random.default_rng(n).standard_normal((6, 400))
    outputs = sequential.PatchOutputs(msd, mtt, emb)
    return outside.Clip(
        f"{source}.{label}.{n}", STYLES[label], source, label, str(n % 3), outputs, outputs.clip()
    )


@pytest.fixture
def clips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[outside.Clip]:
    monkeypatch.setattr(outside, "WORK", tmp_path / "outside")
    made = [clip(label, n, "a") for label in ("rock", "disco", "reggae", "country") for n in range(6)]
    return made + [clip(label, n, "b") for label in ("rock", "disco", "dub") for n in range(6, 9)]


@pytest.mark.parametrize("split", ["fold", "source"])
def test_every_clip_gets_a_verdict_from_a_model_fitted_without_its_group(
    clips: list[outside.Clip], split: str
) -> None:
    verdicts = outside.held_out_verdicts(outside.CANDIDATE, clips, load_artifact(LOGODDS_ARTIFACT_DIR), split)

    assert [Path(v.path).stem for v in verdicts] == [c.name for c in clips]
    assert all(v.truth == c.genre for v, c in zip(verdicts, clips, strict=True))
    groups = {getattr(c, split) for c in clips}
    fitted = {
        p.name for p in (outside.WORK / split / str(outside.VARIANTS.index(outside.CANDIDATE))).iterdir()
    }
    assert fitted == groups  # one fit per held-out group


def test_the_built_detector_candidate_has_outside_prototypes_named_by_the_outside_genre(
    clips: list[outside.Clip], tmp_path: Path
) -> None:
    artifact = outside.build(clips, tmp_path / "built", outside.DETECTOR_CANDIDATE)
    head = load_head(artifact)

    assert isinstance(head, PrototypeHead)
    assert set(head.outside_prototypes) == {"reggae", "country"}  # dub is reggae
    assert head.outside_prototypes["reggae"][1] == 9
    assert head.detector is not None
    assert "outside_prototype_max" in head.detector.features
    assert not Path(artifact.spec["base"]).is_absolute()


def test_the_fitted_temperature_variant_writes_a_temperature_from_the_grid(
    clips: list[outside.Clip], tmp_path: Path
) -> None:
    artifact = outside.fit_variant(
        outside.FITTED_T, clips, load_artifact(LOGODDS_ARTIFACT_DIR), tmp_path / "t"
    )

    assert artifact.spec["temperature"] in folds.TEMPERATURES
    assert isinstance(load_head(artifact), PrototypeHead)


def test_the_default_build_is_the_shipped_kind_of_head(clips: list[outside.Clip], tmp_path: Path) -> None:
    artifact = outside.build(clips, tmp_path / "built")
    head = load_head(artifact)

    assert isinstance(head, PrototypeHead)
    assert head.detector is None  # the base's outside rule
    assert artifact.spec["temperature"] in folds.TEMPERATURES  # fitted, not the 0.1 constant
    assert artifact.spec["examples"] == {label: count for label, (_, count) in head.prototypes.items()}
    assert not Path(artifact.spec["base"]).is_absolute()
    assert outside.FITTED_T in artifact.spec["description"]


def test_a_variant_guarded_is_fitted_as_the_same_variant(clips: list[outside.Clip], tmp_path: Path) -> None:
    base = load_artifact(LOGODDS_ARTIFACT_DIR)
    plain = outside.fit_variant(outside.FITTED_T, clips, base, tmp_path / "plain")
    guarded = outside.fit_variant(f"{outside.FITTED_T}{outside.GUARDED}", clips, base, tmp_path / "guarded")

    assert guarded.spec["temperature"] == plain.spec["temperature"]
    assert guarded.spec["prototypes"] == plain.spec["prototypes"]


def test_a_reading_is_told_from_the_variant_name_and_is_no_part_of_the_fit(
    clips: list[outside.Clip], tmp_path: Path
) -> None:
    assert outside.reading(outside.FITTED_T) == ("seqg", False)
    assert outside.reading(f"{outside.FITTED_T}{outside.GUARDED}") == ("seq", False)
    assert outside.reading(f"{outside.FITTED_T}{outside.INT8}, 3 patches") == ("3", True)
    base = load_artifact(LOGODDS_ARTIFACT_DIR)
    plain = outside.fit_variant(outside.FITTED_T, clips, base, tmp_path / "plain")
    cheap = outside.fit_variant(
        f"{outside.FITTED_T}{outside.INT8}, 3 patches", clips, base, tmp_path / "cheap"
    )
    assert cheap.spec == plain.spec  # the same artifact: only how its clips are read differs


def test_a_fixed_reading_reads_that_many_patches_and_int8_needs_its_outputs(
    clips: list[outside.Clip],
) -> None:
    base = load_artifact(LOGODDS_ARTIFACT_DIR)
    head = load_head(base)

    verdict = outside.verdict(base, head, clips[0], ("3", False))

    assert verdict.patches_read == 3
    with pytest.raises(FileNotFoundError, match="int8"):
        outside.verdict(base, head, clips[0], ("3", True))
