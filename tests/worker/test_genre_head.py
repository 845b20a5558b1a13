"""The head, the artifact and the taxonomy, with fake backbone outputs: no TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from worker.backbone.musicnn import MSD_TAGS, MTT_TAGS, BackboneOutput
from worker.heads import genre_head
from worker.heads.genre_head import ArtifactError, TagMappingHead, load_artifact, normalise, prototype_base
from worker.predictor import default_artifact_info

ZEROSHOT = genre_head.ZEROSHOT_ARTIFACT_DIR
SLUGS = ["classical", "dance", "electronica", "pop", "rnb", "rock", "shoegaze"]
NAMES = ["Classical", "Dance", "Electronica", "Pop", "R&B", "Rock", "Shoegaze & dream pop"]


def fake_output(msd: dict[str, float] | None = None, mtt: dict[str, float] | None = None) -> BackboneOutput:
    msd_probs = np.full(50, 0.02)
    mtt_probs = np.full(50, 0.02)
    for tag, p in (msd or {}).items():
        msd_probs[MSD_TAGS.index(tag)] = p
    for tag, p in (mtt or {}).items():
        mtt_probs[MTT_TAGS.index(tag)] = p
    return BackboneOutput(msd_probs, mtt_probs, np.zeros(400), np.zeros((1, 400)))


def test_default_artifact_carries_the_seven_genres_in_order() -> None:
    artifact = load_artifact()

    assert list(artifact.labels) == SLUGS
    assert list(artifact.display_names) == NAMES
    assert artifact.kind == "prototype"
    assert (artifact.name, artifact.version) == ("musicnn-prototypes-7", "1.0.0")
    assert (prototype_base(artifact).name, prototype_base(artifact).version) == ("musicnn-logodds-7", "2.0.0")
    assert artifact.name
    assert artifact.version


def test_default_artifact_info_does_not_import_tensorflow() -> None:
    code = "import sys, worker.predictor as p; info = p.default_artifact_info(); print(info['labels']);"
    code += "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )

    assert proc.returncode == 0, proc.stderr
    assert "classical" in proc.stdout


def test_default_artifact_info_lists_name_version_and_labels() -> None:
    info = default_artifact_info()

    assert info["labels"] == SLUGS
    assert info["display_names"] == NAMES
    assert {"name", "version"} <= info.keys()


def test_tag_mapping_head_gives_probabilities_summing_to_one_for_the_artifact_labels() -> None:
    head = TagMappingHead(load_artifact(ZEROSHOT))

    probs = head.predict(fake_output({"rock": 0.8, "indie": 0.3}, {"guitar": 0.6}), np.zeros((1, 187, 96)))

    assert probs.shape == (7,)
    assert probs.sum() == pytest.approx(1.0)
    assert SLUGS[int(np.argmax(probs))] == "rock"


def test_tag_mapping_head_picks_classical_from_mtt_tags() -> None:
    head = TagMappingHead(load_artifact(ZEROSHOT))

    probs = head.predict(fake_output({}, {"classical": 0.7, "violin": 0.5}), np.zeros((1, 187, 96)))

    assert SLUGS[int(np.argmax(probs))] == "classical"


@pytest.mark.parametrize("method", [{"method": "sum"}, {"method": "softmax", "temperature": 0.1}])
def test_normalise_sums_to_one(method: dict) -> None:
    probs = normalise(np.array([0.9, 0.1, 0.0, 0.3]), method)

    assert probs.sum() == pytest.approx(1.0)
    assert int(np.argmax(probs)) == 0


def test_normalise_falls_back_to_uniform_when_every_score_is_zero() -> None:
    np.testing.assert_allclose(normalise(np.zeros(4), {"method": "sum"}), 0.25)


def test_outside_taxonomy_flags_jazz_when_jazz_tags_dominate() -> None:
    output = fake_output({"jazz": 0.6, "instrumental": 0.3}, {"piano": 0.4})

    assert genre_head.outside_taxonomy(output, load_artifact(ZEROSHOT).spec, top_genre_score=0.4) == "jazz"


def test_outside_taxonomy_is_none_when_in_taxonomy_genres_dominate() -> None:
    output = fake_output({"rock": 0.8, "jazz": 0.1})

    assert genre_head.outside_taxonomy(output, load_artifact(ZEROSHOT).spec, top_genre_score=0.8) is None


def test_descriptive_tags_merge_both_taggers_and_skip_decades() -> None:
    tags = genre_head.descriptive_tags(
        fake_output({"80s": 0.9, "electronic": 0.3}, {"electronic": 0.5, "piano": 0.4})
    )

    names = [name for name, _ in tags]
    assert names[:2] == ["electronic", "piano"]
    assert "80s" not in names
    assert dict(tags)["electronic"] == pytest.approx(0.5)


def test_load_artifact_rejects_mismatched_display_names(tmp_path: Path) -> None:
    spec = json.loads((ZEROSHOT / "artifact.json").read_text())
    spec["display_names"] = spec["display_names"][:3]
    (tmp_path / "artifact.json").write_text(json.dumps(spec))

    with pytest.raises(ArtifactError):
        load_artifact(tmp_path)


def test_tag_mapping_head_rejects_unknown_tags(tmp_path: Path) -> None:
    spec = json.loads((ZEROSHOT / "artifact.json").read_text())
    spec["tag_mapping"]["rock"]["msd"].append("polka")
    artifact = genre_head.write_artifact(tmp_path, spec)

    with pytest.raises(ArtifactError, match="polka"):
        TagMappingHead(artifact)


def test_another_taxonomy_is_just_another_artifact(tmp_path: Path) -> None:
    spec = json.loads((ZEROSHOT / "artifact.json").read_text())
    spec.update(
        name="two-genres", version="0.1", labels=["rock", "classical"], display_names=["Rock", "Classical"]
    )
    head = TagMappingHead(genre_head.write_artifact(tmp_path, spec))

    probs = head.predict(fake_output({"rock": 0.9}), np.zeros((1, 187, 96)))

    assert probs.shape == (2,)
    assert probs[0] > probs[1]
