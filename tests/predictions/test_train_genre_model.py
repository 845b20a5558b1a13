"""`manage.py train_genre_model`: the predictions app's command (it reads reviewed predictions)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.worker.test_training import write_dataset
from worker.genre_head import load_artifact


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
