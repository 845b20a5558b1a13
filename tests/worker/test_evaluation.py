"""Evaluation metrics on hand-made verdicts: every expected figure below is counted by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.learning import evaluation
from worker.learning.evaluation import OUTSIDE, Verdict

LABELS = ["classical", "dance", "rock"]


def verdict(truth: str, ranked: list[str], top_prob: float = 0.6, outside: str | None = None) -> Verdict:
    rest = (1 - top_prob) / 2
    return Verdict("x.wav", truth, ranked, [top_prob, rest, rest], outside)


VERDICTS = [
    verdict("classical", ["classical", "rock", "dance"], 0.9),  # right
    verdict("classical", ["rock", "classical", "dance"], 0.5),  # wrong, top-2 right
    verdict("dance", ["dance", "rock", "classical"], 0.7, outside="none"),  # right, wrongly flagged
    verdict("rock", ["classical", "dance", "rock"], 0.55),  # wrong, not in top-2
    verdict(OUTSIDE, ["rock", "dance", "classical"], 0.4, outside="jazz"),  # flagged
    verdict(OUTSIDE, ["dance", "rock", "classical"], 0.4),  # missed
    verdict(OUTSIDE, ["dance", "rock", "classical"], 0.4, outside="none"),  # flagged
]


def test_metrics_count_as_by_hand() -> None:
    m = evaluation.metrics(VERDICTS, LABELS)

    assert (m["in_genre_files"], m["outside_files"]) == (4, 3)
    assert m["top1"] == pytest.approx(2 / 4)
    assert m["top2"] == pytest.approx(3 / 4)
    assert m["outside_flagged"] == pytest.approx(2 / 3)
    assert m["in_genre_flagged"] == pytest.approx(1 / 4)
    assert m["outside_named"] == {"jazz": 1, "none": 1}
    assert m["per_genre"]["classical"] == {"recall": 0.5, "files": 2}
    assert m["per_genre"]["rock"] == {"recall": 0.0, "files": 1}
    assert m["confusion_matrix"] == [[1, 0, 1], [0, 1, 0], [1, 0, 0]]


def test_reliability_bins_confidence_against_accuracy() -> None:
    m = evaluation.metrics(VERDICTS, LABELS)

    bins = {(round(r["low"], 1)): r for r in m["reliability"]}
    assert sorted(bins) == [0.5, 0.7, 0.9]
    assert bins[0.5]["files"] == 2  # 0.5 and 0.55, both wrong
    assert bins[0.5]["accuracy"] == 0.0
    assert bins[0.5]["confidence"] == pytest.approx(0.525)
    assert bins[0.9]["accuracy"] == 1.0
    # ECE = 2/4 * |0 - 0.525| + 1/4 * |1 - 0.7| + 1/4 * |1 - 0.9|
    assert m["ece"] == pytest.approx(0.5 * 0.525 + 0.25 * 0.3 + 0.25 * 0.1)


def test_no_outside_files_gives_no_flag_rate_rather_than_zero() -> None:
    m = evaluation.metrics([v for v in VERDICTS if v.truth != OUTSIDE], LABELS)

    assert m["outside_flagged"] is None
    assert "outside flagged" in evaluation.format_table({"a 1": m}, {"a 1": LABELS})


def test_collect_items_labels_files_by_folder_and_refuses_an_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "Rock").mkdir()
    (tmp_path / "Rock" / "a.wav").write_bytes(b"x")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / ".hidden").write_bytes(b"x")
    (tmp_path / "outside" / "b.mp3").write_bytes(b"x")

    items = evaluation.collect_items(tmp_path)

    assert sorted((i.path.name, i.truth) for i in items) == [("a.wav", "rock"), ("b.mp3", "outside")]
    with pytest.raises(evaluation.EvaluationDataError):
        evaluation.collect_items(tmp_path / "Rock" / "nothing")
