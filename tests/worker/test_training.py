from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.worker.conftest import write_audio
from worker.audio import synth
from worker.heads.genre_head import load_artifact
from worker.learning import training
from worker.predictor import GenrePredictor

GENRES = ("drums", "tones", "hiss")
FILES_PER_GENRE = 6


def _clip(genre: str, seed: int) -> np.ndarray:
    """Three "genres" that sound nothing alike, each with variation between files."""
    rng = np.random.default_rng(seed)
    seconds = 4.0
    if genre == "drums":
        return synth.drums_and_bass(seconds, bpm=float(rng.uniform(90, 150)), seed=seed)
    if genre == "tones":
        root = str(rng.choice(["C", "D", "F", "G", "A"]))
        return synth.chord_progression([(root, "major"), (root, "minor")], seconds) * 0.8
    noise = rng.standard_normal(int(seconds * synth.SR)).astype(np.float32)
    return (np.cumsum(noise) / 300.0 * rng.uniform(0.3, 1.0)).astype(np.float32)  # brown noise


def write_dataset(root: Path) -> Path:
    """A GTZAN-like folder: one sub-folder of generated clips per genre."""
    for g, genre in enumerate(GENRES):
        for i in range(FILES_PER_GENRE):
            write_audio(root / genre / f"{genre}.{i:05d}.wav", _clip(genre, 100 * g + i))
    return root


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("gtzan-like"))


def _config(data: Path, out: Path, arch: str) -> training.TrainingConfig:
    return training.TrainingConfig(
        output_dir=out, data_dir=data, arch=arch, name=f"test-{arch}", version="0.0.1", val_fraction=0.34,
        max_epochs=60, patience=10, batch_size=8,
    )  # fmt: skip


@pytest.mark.model
def test_train_head_beats_chance_and_writes_artifact_and_report(
    predictor, dataset: Path, tmp_path: Path
) -> None:
    result = training.train(_config(dataset, tmp_path / "head", "head"))

    out = tmp_path / "head"
    assert result.report["accuracy"] >= 0.8  # chance is 1/3
    assert {"model.keras", "artifact.json", "report.json", "confusion_matrix.png"} <= {
        p.name for p in out.iterdir()
    }
    assert set(result.report["per_genre"]) == set(GENRES)
    assert {"precision", "recall", "f1"} <= result.report["per_genre"]["drums"].keys()
    assert json.loads((out / "artifact.json").read_text())["kind"] == "embedding-head"
    assert (out / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.model
def test_prediction_through_a_freshly_loaded_trained_artifact_uses_its_labels(
    predictor, dataset: Path, tmp_path: Path
) -> None:
    training.train(_config(dataset, tmp_path / "head", "head"))
    fresh = GenrePredictor(load_artifact(tmp_path / "head"))

    result = fresh.predict(dataset / "drums" / "drums.00000.wav")

    assert sorted(result.labels) == sorted(GENRES)
    assert sum(result.genres.values()) == pytest.approx(1.0, abs=1e-5)
    assert (result.model_name, result.model_version) == ("test-head", "0.0.1")
    assert result.top_genre == "drums"


def test_train_conv1d_beats_chance(dataset: Path, tmp_path: Path) -> None:
    result = training.train(_config(dataset, tmp_path / "conv", "conv1d"))

    assert result.report["accuracy"] >= 0.8
    assert result.artifact.kind == "conv1d"
    assert result.artifact.labels == tuple(sorted(GENRES))


def test_train_counts_extra_labelled_pairs_as_examples(dataset: Path, tmp_path: Path) -> None:
    extra_dir = tmp_path / "extra"
    extra = [(write_audio(extra_dir / f"x{i}.wav", _clip("hiss", 900 + i)), "whoosh") for i in range(5)]
    config = training.TrainingConfig(output_dir=tmp_path / "o", data_dir=None, arch="conv1d", max_epochs=2)

    with pytest.raises(training.TrainingDataError, match="Found 1 genre"):
        training.train(config, extra_examples=extra)


def test_check_counts_refuses_genres_with_too_few_files() -> None:
    examples = [training.Example(Path(f"a{i}"), "rock") for i in range(6)]
    examples += [training.Example(Path(f"b{i}"), "jazz") for i in range(2)]

    with pytest.raises(training.TrainingDataError, match="'jazz' has 2"):
        training.check_counts(examples, minimum=5)
