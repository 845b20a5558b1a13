"""bench/musicness.py runs end to end and reports both rates: on a small real set (one generated
piece standing in for the real clips) and shorter generated negatives."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import soundfile as sf

from bench import musicness as bench
from worker.audio import synth


@pytest.fixture
def short(monkeypatch) -> None:
    monkeypatch.setattr(bench, "SECONDS", 8.0)
    monkeypatch.setattr(bench, "SPEECH_VOICES", (("en", 160),))
    monkeypatch.setattr(bench, "generated_music", lambda folder: iter(()))


def test_the_bench_prints_the_false_and_true_positive_rates(short, tmp_path: Path, capsys) -> None:
    audio = tmp_path / "realset" / "audio"
    audio.mkdir(parents=True)
    sf.write(audio / "drums.wav", synth.drums_and_bass(12.0), synth.SR)
    per_clip = tmp_path / "clips.tsv"

    assert bench.main(["--realset", str(tmp_path / "realset"), "--per-clip", str(per_clip)]) == 0

    out = capsys.readouterr().out
    assert "false-positive rate (music flagged): 0.0%" in out
    assert "true-positive rate (not music flagged): 100.0%" in out
    assert "real clips closest to each rule:" in out
    rows = list(csv.DictReader(per_clip.open(), delimiter="\t"))
    assert {row["group"] for row in rows} >= {"real music", "noise", "near-silence"}
    assert next(row for row in rows if row["clip"] == "drums")["verdict"] == "music"
