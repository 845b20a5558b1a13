"""bench/calibrate.py chooses badge thresholds and counts their reliability right: checked on
hand-made answers and a cache written here, never against the real set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bench import calibrate
from bench.calibrate import Answer, Thresholds
from worker.audio import synth
from worker.music.theory import FAIRLY_SURE, SURE, UNSURE


def _answers(pairs: list[tuple[float, bool]], fold: str = "0") -> list[Answer]:
    return [Answer(confidence, right, fold) for confidence, right in pairs]


def test_sure_starts_where_every_higher_band_is_right_nine_times_in_ten() -> None:
    # Six answers at 0.8 and above, all right; one wrong at 0.7 among right ones below.
    answers = _answers(
        [(0.95, True), (0.9, True), (0.88, True), (0.85, True), (0.82, True), (0.8, True)]
        + [(0.7, False), (0.6, True), (0.5, True)]
        + [(0.3, False), (0.25, False), (0.2, True), (0.1, False)]
    )

    chosen = calibrate.choose_thresholds(answers)

    assert chosen.sure_at == 0.75  # halfway between 0.7 and 0.8
    assert chosen.unsure_below == 0.4  # below it 1 of 4 is right; below 0.5 ... 0.6 too
    words = [calibrate.badge(a.confidence, chosen) for a in answers]
    assert words.count(SURE) == 6


def test_no_sure_when_too_few_answers_are_right_at_the_top() -> None:
    answers = _answers([(0.9, True), (0.8, True), (0.7, False), (0.6, True), (0.5, False)])

    assert calibrate.choose_thresholds(answers).sure_at == 1.01  # never: confidences are at most 1


def test_reliability_counts_each_badge_and_its_share_right() -> None:
    answers = _answers([(0.9, True), (0.9, False), (0.5, True), (0.1, False)])
    badges = [calibrate.badge(a.confidence, Thresholds(0.8, 0.3)) for a in answers]

    table = calibrate.reliability(answers, badges)

    assert table[SURE] == (2, 0.5)
    assert table[FAIRLY_SURE] == (1, 1.0)
    assert table[UNSURE] == (1, 0.0)


def test_held_out_badges_use_thresholds_chosen_without_the_answers_fold() -> None:
    # Fold "a" alone would make 0.85 sure; on fold "b" nothing under 0.95 is right, so 0.85 is unsure.
    fold_a = _answers([(0.85, True)] * 6 + [(0.2, False)] * 6, "a")
    fold_b = _answers([(0.95, True)] * 6 + [(0.85, False)] * 6 + [(0.2, False)] * 6, "b")

    badges = calibrate.held_out_badges(fold_a + fold_b, calibrate.by_fold)

    assert badges[:6] == [UNSURE] * 6
    assert set(badges[12:18]) == {SURE}


def test_held_out_badges_skip_a_group_with_too_little_outside_it() -> None:
    answers = _answers([(0.9, True)] * 3, "a") + _answers([(0.9, True)] * 20, "b")

    badges = calibrate.held_out_badges(answers, calibrate.by_fold)

    assert badges[3:] == [""] * 20  # only 3 answers outside fold "b"


def test_shipped_reads_the_settings_default_and_the_environment(monkeypatch) -> None:
    monkeypatch.delenv("TEMPO_SURE_AT", raising=False)
    default = calibrate.shipped("TEMPO_SURE_AT")
    monkeypatch.setenv("TEMPO_SURE_AT", "0.5")

    assert 0.0 < default <= 1.01
    assert calibrate.shipped("TEMPO_SURE_AT") == 0.5


def test_collect_then_report_on_generated_clips(tmp_path: Path, capsys) -> None:
    (tmp_path / "audio").mkdir()
    for i, bpm in enumerate((100.0, 120.0)):
        sf.write(tmp_path / "audio" / f"clip{i}.wav", synth.drums_and_bass(8.0, bpm=bpm, seed=i), synth.SR)
    table = tmp_path / "annotations.tsv"
    table.write_text("file\ttempo\tkey\tfold\naudio/clip0.wav\t100\tX\t0\naudio/clip1.wav\t60\tX\t1\n")
    cache = tmp_path / "cache"

    calibrate.main(["collect", str(table), "--cache", str(cache)])
    calibrate.main(["report", str(table), "--cache", str(cache)])

    assert np.load(cache / "activations" / "clip0.npy").shape[1] == 2
    out = capsys.readouterr().out
    assert "tempo (right = Acc1): 2 answers, 1 right" in out  # 60 is half of the 120 estimated
    assert "settings: sure at" in out


@pytest.mark.parametrize(
    ("reference", "bpm", "alternative", "expected"),
    [
        (120.0, 121.0, 60.5, "right"),
        (120.0, 60.0, 120.0, "alternative right"),
        (120.0, 240.0, 480.0, "octave"),
        (120.0, 80.0, 160.0, "x3/2 or x2/3"),
        (120.0, 97.0, None, "other"),
    ],
)
def test_relation_names_how_a_tempo_misses(reference: float, bpm: float, alternative, expected: str) -> None:
    assert calibrate._relation(reference, bpm, alternative) == expected
