"""Evaluation metrics on hand-made verdicts: every expected figure below is counted by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
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


def test_collect_items_by_source_reads_one_folder_per_source(tmp_path: Path) -> None:
    for rel in ["gtzan/rock/a.wav", "gtzan/outside/b.wav", "xai/dance/c.wav"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")

    items = evaluation.collect_items_by_source(tmp_path)

    assert sorted((i.source, i.truth, i.path.name) for i in items) == [
        ("gtzan", "outside", "b.wav"),
        ("gtzan", "rock", "a.wav"),
        ("xai", "dance", "c.wav"),
    ]


def sourced(
    source: str, truth: str, ranked: list[str], top_prob: float = 0.6, outside: str | None = None
) -> Verdict:
    rest = (1 - top_prob) / 2
    return Verdict(f"{source}.wav", truth, ranked, [top_prob, rest, rest], outside, source=source)


# Research set "big": 3 of 4 right, its outside song flagged. Everyday set "small": 1 of 2 right.
SOURCED = [
    sourced("big", "rock", ["rock", "dance", "classical"]),
    sourced("big", "rock", ["rock", "dance", "classical"]),
    sourced("big", "dance", ["dance", "rock", "classical"]),
    sourced("big", "dance", ["rock", "dance", "classical"]),
    sourced("big", OUTSIDE, ["rock", "dance", "classical"], outside="jazz"),
    sourced("small", "rock", ["rock", "dance", "classical"]),
    sourced("small", "classical", ["dance", "rock", "classical"]),
]


def test_metrics_by_source_split_the_figures_so_a_big_set_cannot_hide_a_small_one() -> None:
    m = evaluation.metrics_by_source(SOURCED, LABELS)

    assert m["top1"] == pytest.approx(4 / 6)
    assert m["per_source"]["big"]["top1"] == pytest.approx(3 / 4)
    assert m["per_source"]["small"]["top1"] == pytest.approx(1 / 2)
    assert m["per_source"]["small"]["outside_flagged"] is None  # no outside song there
    table = evaluation.format_table({"a 1": m}, {"a 1": LABELS})
    assert "Per source" in table
    assert "small" in table


def test_a_long_source_name_keeps_its_column_apart_from_the_file_counts() -> None:
    long_name = "musicalstructure"
    items = [sourced(long_name, "rock", ["rock", "dance", "classical"]), *SOURCED]

    table = evaluation.format_sources({"a 1": evaluation.metrics_by_source(items, LABELS)})

    row = next(line for line in table.splitlines() if long_name in line)
    assert f"{long_name}  1 / 0" in row


def test_compare_to_baseline_lists_what_got_worse_beyond_one_file_in_a_hundred() -> None:
    baseline = evaluation.baseline_figures(
        evaluation.metrics_by_source(SOURCED, LABELS), "old 1", "hand-made"
    )
    assert set(baseline["scopes"]) == {"all", "big", "small"}
    assert baseline["scopes"]["small"]["top1"] == pytest.approx(0.5)

    # The same verdicts: nothing is worse.
    assert (
        evaluation.compare_to_baseline(evaluation.metrics_by_source(SOURCED, LABELS), "new 1", baseline) == []
    )

    # The small set's right song turns wrong: top-1 falls over all files and in "small" only.
    worse = [*SOURCED[:5], sourced("small", "rock", ["dance", "rock", "classical"]), SOURCED[6]]
    found = evaluation.compare_to_baseline(
        evaluation.metrics_by_source(worse, LABELS), "new 1", baseline, one_file_per_source=False
    )
    assert {(r.scope, r.figure) for r in found} >= {("all", "top1"), ("small", "top1")}
    assert not any(r.scope == "big" for r in found)
    assert next(r for r in found if r.scope == "small" and r.figure == "top1").now == 0.0


def test_a_loss_within_the_tolerance_is_not_a_regression_but_a_worse_ece_is() -> None:
    baseline = {
        "tolerance": 0.01,
        "scopes": {
            "all": {"top1": 0.800, "top2": 0.9, "outside_flagged": 0.5, "in_genre_flagged": 0.1, "ece": 0.10}
        },
    }
    within = {"top1": 0.792, "top2": 0.9, "outside_flagged": 0.5, "in_genre_flagged": 0.108, "ece": 0.10}
    assert evaluation.compare_to_baseline(within, "new 1", baseline) == []

    beyond = {**within, "top1": 0.785, "outside_flagged": None, "ece": 0.1001}
    found = evaluation.compare_to_baseline(beyond, "new 1", baseline)
    # top-1 fell 1.5 points; ECE rose at all ("no worse"); no outside songs now: not compared.
    assert [(r.figure, r.baseline, r.now) for r in found] == [("top1", 0.8, 0.785), ("ece", 0.1, 0.1001)]


def test_an_ece_that_differs_by_float_noise_is_the_same_ece() -> None:
    baseline = {"scopes": {"all": {"ece": 0.3567555}}}

    assert evaluation.compare_to_baseline({"ece": 0.356756}, "same model, another run", baseline) == []
    assert evaluation.compare_to_baseline({"ece": 0.35676}, "worse by 4.5e-6", baseline) != []


def test_the_gate_allows_a_source_one_file_s_worth_and_no_more() -> None:
    baseline = evaluation.baseline_figures(
        evaluation.metrics_by_source(SOURCED, LABELS), "old 1", "hand-made"
    )
    # "small" (2 in-genre songs): its right song turns wrong, one file, 50 points of its top-1.
    one = [*SOURCED[:5], sourced("small", "rock", ["dance", "rock", "classical"]), SOURCED[6]]
    # "big" (4 in-genre songs): two of its right songs turn wrong, more than one file's worth.
    two = [
        sourced("big", "rock", ["dance", "rock", "classical"]),
        sourced("big", "rock", ["dance", "rock", "classical"]),
        *SOURCED[2:],
    ]

    def scopes(items: list[evaluation.Verdict], lens: bool) -> set[str]:
        found = evaluation.compare_to_baseline(
            evaluation.metrics_by_source(items, LABELS), "new 1", baseline, one_file_per_source=lens
        )
        return {r.scope for r in found if r.figure == "top1"}

    assert scopes(one, lens=False) == {"all", "small"}
    assert scopes(one, lens=True) == {"all"}  # over all files the rule stands
    assert "big" in scopes(two, lens=True)
    # The gate is the one-file rule: what the evaluation command's --baseline applies.
    gate = evaluation.compare_to_baseline(evaluation.metrics_by_source(one, LABELS), "new 1", baseline)
    assert {r.scope for r in gate if r.figure == "top1"} == {"all"}


def test_proper_scores_score_each_songs_probabilities_without_bins() -> None:
    sure_right = sourced("a", "rock", ["rock", "dance", "classical"])  # probs 0.6, 0.2, 0.2
    unsure_wrong = sourced("a", "dance", ["rock", "dance", "classical"])
    probs = dict(zip(sure_right.ranked, sure_right.probs, strict=True))

    scores = evaluation.proper_scores([sure_right, unsure_wrong], LABELS)

    p_rock, p_dance, p_classical = probs["rock"], probs["dance"], probs["classical"]
    assert scores["log_loss"] == pytest.approx((-np.log(p_rock) - np.log(p_dance)) / 2)
    brier_right = (p_rock - 1) ** 2 + p_dance**2 + p_classical**2
    brier_wrong = p_rock**2 + (p_dance - 1) ** 2 + p_classical**2
    assert scores["brier"] == pytest.approx((brier_right + brier_wrong) / 2)
    assert evaluation.proper_scores([], LABELS) == {"log_loss": None, "brier": None}
    m = evaluation.metrics_by_source([sure_right, unsure_wrong, *SOURCED], LABELS)
    assert m["per_source"]["a"]["log_loss"] == pytest.approx(scores["log_loss"])
