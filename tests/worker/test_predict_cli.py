from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from worker.predict import main


@pytest.mark.model
def test_cli_prints_json_for_good_files_and_a_reason_for_bad_ones(
    predictor, music, tmp_path: Path, capsys
) -> None:
    bad = tmp_path / "bad.mp3"
    bad.write_text("not audio")

    code = main([str(music["ogg"]), str(bad), str(music["wav"]), "--json"])

    out, err = capsys.readouterr()
    results = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert [r["file"] for r in results] == [str(music["ogg"]), str(music["wav"])]
    assert sum(results[0]["genres"].values()) == pytest.approx(1.0, abs=1e-5)
    assert {"tempo_bpm", "key", "model_version"} <= results[0].keys()
    assert err.strip() == f"{bad}: The file is not audio in a format we can read."


@pytest.mark.model
def test_cli_text_output_exits_zero_for_good_files(predictor, music, capsys) -> None:
    code = main([str(music["flac"])])

    out, _ = capsys.readouterr()
    assert code == 0
    assert "Shoegaze & dream pop" in out
    assert "BPM" in out


def test_cli_as_a_module_exits_nonzero_with_one_line_for_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "empty.wav"
    bad.write_bytes(b"")

    proc = subprocess.run(
        [sys.executable, "-m", "worker.predict", str(bad), "--json"],
        capture_output=True, text=True, timeout=120, check=False, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip

    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [f"{bad}: The file is empty."]
