"""manage.py evaluate_genre_model on generated audio with the real backbone.

Two hand-made artifacts make the expected figures countable by hand whatever the taggers hear:
"always-rock" maps every tag to rock and nothing to dance, and never flags; "always-flag" maps
every tag to dance and flags every song as jazz. The shipped default runs beside them in the same
call (its figures are not asserted: synthetic audio says nothing about accuracy).
"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from django.core.management import CommandError, call_command

from predictions import learning
from tests.predictions.test_learning import reviewed
from worker.audio import synth
from worker.backbone.musicnn import MSD_TAGS, MTT_TAGS
from worker.heads.genre_head import DEFAULT_ARTIFACT_DIR, write_artifact

pytestmark = pytest.mark.model

EVERY_TAG = {"msd": list(MSD_TAGS), "mtt": list(MTT_TAGS)}
NO_TAG: dict[str, list[str]] = {"msd": [], "mtt": []}


def two_genre_artifact(folder: Path, name: str, *, rock_gets_all: bool, flag_everything: bool) -> Path:
    spec = {
        "format": 1,
        "name": name,
        "version": "0.1",
        "kind": "tag-mapping",
        "labels": ["dance", "rock"],
        "display_names": ["Dance", "Rock"],
        "normalisation": {"method": "sum"},
        "tag_mapping": {
            "dance": NO_TAG if rock_gets_all else EVERY_TAG,
            "rock": EVERY_TAG if rock_gets_all else NO_TAG,
        },
        "outside_taxonomy": {
            "tags": {"jazz": {"msd": ["jazz"], "mtt": []}},
            "min_probability": 0.0 if flag_everything else 2.0,
            "min_ratio_to_top_genre": 0.0,
        },
    }
    return write_artifact(folder / name, spec).path


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("labelled")
    clips = {
        "rock/piano.wav": synth.piano_piece(12.0, seed=1),
        "dance/beat1.wav": synth.drums_and_bass(12.0, bpm=124.0, seed=1),
        "dance/beat2.wav": synth.drums_and_bass(12.0, bpm=120.0, seed=2),
        "outside/click.wav": synth.click_track(100.0, 12.0),
    }
    for rel, x in clips.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        sf.write(root / rel, np.asarray(x, np.float32), synth.SR)
    (root / "dance" / "broken.wav").write_bytes(b"RIFF not really a wave file")
    return root


def test_evaluates_several_artifacts_side_by_side_with_hand_countable_figures(
    data_dir: Path, tmp_path: Path
) -> None:
    rock = two_genre_artifact(tmp_path, "always-rock", rock_gets_all=True, flag_everything=False)
    flag = two_genre_artifact(tmp_path, "always-flag", rock_gets_all=False, flag_everything=True)
    out, stdout = tmp_path / "report", StringIO()

    call_command(
        "evaluate_genre_model", "--data", str(data_dir), "--model", str(rock), "--model", str(flag),
        "--model", str(DEFAULT_ARTIFACT_DIR), "--out", str(out), "--dataset", "SYNTHETIC test audio",
        stdout=stdout, stderr=StringIO(),
    )  # fmt: skip

    report = json.loads((out / "report.json").read_text())
    always_rock, always_flag = report["results"]["always-rock 0.1"], report["results"]["always-flag 0.1"]
    # 3 readable in-genre files (1 rock, 2 dance), 1 outside; the broken file is listed, not counted.
    assert [Path(p).name for p, _ in report["skipped"]] == ["broken.wav"]
    assert (always_rock["in_genre_files"], always_rock["outside_files"]) == (3, 1)
    assert always_rock["top1"] == pytest.approx(1 / 3)
    assert always_rock["top2"] == 1.0
    assert (always_rock["outside_flagged"], always_rock["in_genre_flagged"]) == (0.0, 0.0)
    assert always_rock["per_genre"] == {
        "dance": {"recall": 0.0, "files": 2},
        "rock": {"recall": 1.0, "files": 1},
    }
    assert always_rock["confusion_matrix"] == [[0, 2], [0, 1]]
    assert always_flag["top1"] == pytest.approx(2 / 3)
    assert (always_flag["outside_flagged"], always_flag["in_genre_flagged"]) == (1.0, 1.0)
    assert always_flag["outside_named"] == {"jazz": 1}
    assert always_flag["confusion_matrix"] == [[2, 0], [1, 0]]
    # A 12 s clip is 4 patches. A head that gives one genre everything is settled after the first 2.
    assert (always_rock["patches_read_mean"], always_rock["settled_after_half"]) == (2.0, 1.0)
    default = report["results"]["musicnn-prototypes-7 1.0.0"]
    assert sum(map(sum, default["confusion_matrix"])) == 3
    printed = stdout.getvalue()
    for expected in [
        "always-rock 0.1",
        "always-flag 0.1",
        "musicnn-prototypes-7 1.0.0",
        "33.3 %",
        "skipped",
        "SYNTHETIC",
    ]:
        assert expected in printed
    for png in [
        "reliability.png",
        "confusion-always-rock-0.1.png",
        "confusion-musicnn-prototypes-7-1.0.0.png",
    ]:
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_patch_reads_the_whole_excerpt(data_dir: Path, tmp_path: Path) -> None:
    rock = two_genre_artifact(tmp_path, "always-rock", rock_gets_all=True, flag_everything=False)
    out = tmp_path / "report"

    call_command(
        "evaluate_genre_model", "--data", str(data_dir), "--model", str(rock), "--every-patch",
        "--out", str(out), stdout=StringIO(), stderr=StringIO(),
    )  # fmt: skip

    figures = json.loads((out / "report.json").read_text())["results"]["always-rock 0.1"]
    assert (figures["patches_read_mean"], figures["settled_after_half"]) == (4.0, 0.0)
    assert figures["top1"] == pytest.approx(1 / 3)  # the same verdicts: this head is sure either way


@pytest.mark.django_db  # without --model it reads which version is promoted
def test_refuses_a_missing_folder_and_an_unreadable_artifact(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="not a folder"):
        call_command("evaluate_genre_model", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "r"))
    with pytest.raises(CommandError, match="artifact.json"):
        call_command("evaluate_genre_model", "--data", str(tmp_path), "--model", str(tmp_path))


@pytest.mark.django_db
def test_without_a_model_it_evaluates_the_served_one_and_says_which(
    data_dir: Path, tmp_path: Path, settings
) -> None:
    settings.VAR_DIR = tmp_path / "var"
    rock = two_genre_artifact(tmp_path, "always-rock", rock_gets_all=True, flag_everything=False)
    settings.GENRE_MODEL_DIR = str(rock)

    def evaluate() -> tuple[list[str], str]:
        out, stdout = tmp_path / "report", StringIO()
        call_command(
            "evaluate_genre_model",
            "--data",
            str(data_dir),
            "--out",
            str(out),
            stdout=stdout,
            stderr=StringIO(),
        )
        return list(json.loads((out / "report.json").read_text())["results"]), stdout.getvalue()

    evaluated, printed = evaluate()
    assert evaluated == ["always-rock 0.1"]
    assert f"Evaluating always-rock 0.1 ({rock}; the served model: GENRE_MODEL_DIR)" in printed

    # A promoted version serves instead of GENRE_MODEL_DIR (its genres must be the site's).
    settings.GENRE_MODEL_DIR = ""
    for pk in (1, 10):  # one to learn from, one held back to evaluate on
        reviewed(pk, "rock")
    version = learning.model_version_promote(learning.model_version_build())
    evaluated, printed = evaluate()
    assert evaluated == [f"musicnn-fewshot-7 {version.version}"]
    assert f"({Path(version.artifact_dir).resolve()}; the served model: the promoted version)" in printed
