"""`manage.py train_genre_model`: the predictions app's command (it reads reviewed predictions)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from predictions import learning
from tests.predictions.test_learning import reviewed
from tests.worker.test_training import write_dataset
from worker.heads.genre_head import ZEROSHOT_ARTIFACT_DIR, load_artifact
from worker.learning import training
from worker.learning.training import TrainingResult


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("gtzan-like"))


@pytest.mark.django_db
def test_command_refuses_with_a_clear_message_when_a_genre_has_too_few_files(
    dataset: Path, tmp_path: Path
) -> None:
    with pytest.raises(CommandError, match="each genre needs at least 10"):
        call_command(
            "train_genre_model", "--data", str(dataset), "--out", str(tmp_path / "m"), "--min-files", "10"
        )


@pytest.mark.django_db
def test_command_trains_conv1d_and_reports(dataset: Path, tmp_path: Path, capsys) -> None:
    call_command(
        "train_genre_model", "--data", str(dataset), "--arch", "conv1d", "--out", str(tmp_path / "m"),
        "--model-version", "9.9",
    )  # fmt: skip

    out = capsys.readouterr().out
    assert "Validation accuracy" in out
    assert load_artifact(tmp_path / "m").version == "9.9"


@pytest.mark.django_db
def test_the_command_says_how_the_new_model_serves(
    dataset: Path, tmp_path: Path, settings, monkeypatch
) -> None:
    """GENRE_MODEL_DIR serves only while no version is promoted; the training itself is faked."""
    settings.VAR_DIR, settings.GENRE_MODEL_DIR = tmp_path / "var", ""
    trained = load_artifact(ZEROSHOT_ARTIFACT_DIR)
    report = {"accuracy": 0.5, "chance": 0.25, "macro_f1": 0.5, "validation_files": 4}
    monkeypatch.setattr(training, "train", lambda config, extra_examples: TrainingResult(trained, report))

    def train() -> str:
        stdout = StringIO()
        call_command("train_genre_model", "--data", str(dataset), stdout=stdout)
        return stdout.getvalue()

    printed = train()
    assert (
        f"Serve it by setting GENRE_MODEL_DIR={trained.path} and restarting the site and the workers"
        in printed
    )
    assert "No model version is promoted, so GENRE_MODEL_DIR serves." in printed

    for pk in (1, 10):  # one to learn from, one held back to evaluate on
        reviewed(pk, "rock")
    version = learning.model_version_promote(learning.model_version_build())
    printed = train()
    assert f"But a promoted model version ({version.artifact_dir}) serves instead" in printed
    assert 'choose "Stop serving" on it' in printed
