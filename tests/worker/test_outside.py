"""The fitted outside detector (worker.heads.outside), fitting on held-out folds (worker.learning.folds),
and the heads that use it, on small generated vectors: no audio, no TensorFlow, no accuracy threshold.

Fake backbone outputs put every tag at its prior (no tag evidence) and draw embeddings around one
random direction per genre, as tests/worker/test_fewshot.py does."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from worker.backbone.musicnn import MSD_TAGS, MTT_TAGS, BackboneOutput
from worker.heads import fewshot
from worker.heads.genre_head import (
    LOGODDS_ARTIFACT_DIR,
    OUTSIDE_UNNAMED,
    ArtifactError,
    LogOddsHead,
    PrototypeHead,
    head_outside,
    load_artifact,
    load_head,
    outside_margin,
    write_artifact,
)
from worker.heads.outside import Detector, clipped_logit, total_variation
from worker.learning import folds

RNG = np.random.default_rng(5)
DIRECTIONS = {label: RNG.standard_normal(400) for label in ("rock", "dance", "classical", "reggae", "polka")}


@pytest.fixture(scope="module")
def base() -> LogOddsHead:
    return LogOddsHead(load_artifact(LOGODDS_ARTIFACT_DIR))


def output(base: LogOddsHead, embedding: np.ndarray, msd: dict[str, float] | None = None) -> BackboneOutput:
    msd_probs = np.array([base.priors[("msd", t)] for t in MSD_TAGS])
    mtt_probs = np.array([base.priors[("mtt", t)] for t in MTT_TAGS])
    for tag, p in (msd or {}).items():
        msd_probs[MSD_TAGS.index(tag)] = p
    return BackboneOutput(msd_probs, mtt_probs, embedding, embedding[None, :])


def near(label: str, seed: int, noise: float = 0.3) -> np.ndarray:
    return DIRECTIONS[label] + noise * np.random.default_rng(seed).standard_normal(400)


# --- held-out folds ---------------------------------------------------------------------------


def test_every_item_is_scored_by_a_model_that_never_saw_its_fold() -> None:
    item_folds = ["a", "b", "a", "c", "b", "c", "a"]
    fitted: list[list[int]] = []

    def fit(train: list[int]) -> set[int]:
        fitted.append(train)
        return set(train)

    seen = folds.held_out(item_folds, fit, lambda train, i: (i, i in train, {item_folds[j] for j in train}))

    assert len(fitted) == 3  # once per fold
    assert [s[0] for s in seen] == list(range(len(item_folds)))  # in the items' order
    assert not any(in_train for _, in_train, _ in seen)
    assert all(item_folds[i] not in train_folds for i, _, train_folds in seen)


def test_held_out_needs_two_folds() -> None:
    with pytest.raises(ValueError, match="two folds"):
        folds.held_out(["0", "0"], lambda train: None, lambda model, i: i)


def test_logistic_fit_finds_the_informative_figure_and_balances_the_classes() -> None:
    rng = np.random.default_rng(1)
    y = np.r_[np.ones(10), np.zeros(90)]
    x = np.c_[y * 2.0 + rng.standard_normal(100), rng.standard_normal(100)]

    weights, bias = folds.fit_logistic(x, y)
    _, bias_unbalanced = folds.fit_logistic(x, y, balanced=False)

    assert weights[0] > 1.0 > abs(weights[1])
    # Unweighted, the 90 in-genre songs pull the bias down: fewer flags at 0.5.
    assert bias_unbalanced < bias


def test_logistic_fit_refuses_one_class() -> None:
    with pytest.raises(ValueError, match="both classes"):
        folds.fit_logistic(np.zeros((3, 1)), np.zeros(3))


def test_flag_at_flags_at_most_the_allowed_share_of_in_genre_songs() -> None:
    inside = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]
    probabilities = inside + [0.85, 0.99]
    outside = [False] * 10 + [True, True]

    flag_at = folds.fit_flag_at(probabilities, outside, 0.2)

    assert sum(p >= flag_at for p in inside) == 2
    assert 0.8 < flag_at <= 0.9  # the outside song at 0.85 is flagged too
    assert folds.fit_flag_at(probabilities, outside, 0.0) > 0.95
    assert folds.fit_flag_at(probabilities, outside, 1.0) == 0.0


def test_a_threshold_set_on_held_out_training_probabilities_keeps_its_cap_on_new_songs() -> None:
    # Figures that carry nothing and few songs: the fit bends to its own songs, so in-genre songs it
    # was fitted on look less "outside" than new ones, and a threshold set on them flags more new
    # in-genre songs than the cap allows. Set on held-out probabilities, it keeps closer to the cap.
    rng = np.random.default_rng(3)
    names = tuple(f"f{k}" for k in range(8))
    is_outside = [i % 3 == 0 for i in range(60)]
    figures = [dict(zip(names, rng.standard_normal(8), strict=True)) for _ in is_outside]
    new_songs = [dict(zip(names, rng.standard_normal(8), strict=True)) for _ in range(2000)]
    cap = 0.1

    def share_of_new_songs_flagged(detector: Detector) -> float:
        return float(np.mean([detector.flags(f) for f in new_songs]))

    in_sample = folds.fit_detector(figures, is_outside, names, l2=0.01, max_in_genre_flagged=cap)
    nested = folds.fit_detector(
        figures, is_outside, names, l2=0.01, max_in_genre_flagged=cap,
        threshold_folds=[i % 5 for i in range(60)],
    )  # fmt: skip

    assert nested.weights == in_sample.weights  # the same fit; only the threshold differs
    assert share_of_new_songs_flagged(in_sample) > share_of_new_songs_flagged(nested)
    assert share_of_new_songs_flagged(in_sample) > 1.5 * cap


def test_fitted_detector_flags_the_held_out_songs_its_figures_point_to() -> None:
    rng = np.random.default_rng(2)
    is_outside = [i % 4 == 0 for i in range(80)]
    figures = [
        {"outside_logit": (1.5 if o else -1.5) + rng.standard_normal(), "disagreement": rng.random()}
        for o in is_outside
    ]
    item_folds = [str(i % 5) for i in range(80)]

    def fit(train: list[int]) -> Detector:
        return folds.fit_detector(
            [figures[i] for i in train], [is_outside[i] for i in train], ("outside_logit", "disagreement")
        )

    flagged = folds.held_out(item_folds, fit, lambda detector, i: detector.flags(figures[i]))

    hits = sum(f and o for f, o in zip(flagged, is_outside, strict=True))
    false_flags = sum(f and not o for f, o in zip(flagged, is_outside, strict=True))
    # 20 outside songs and 60 in genre, their figures 3 standard deviations apart.
    assert hits >= 15
    assert false_flags <= 10


def test_detector_spec_round_trips_and_rejects_unknown_figures() -> None:
    detector = Detector(("outside_logit", "prototype_max"), (0.0, 0.5), (1.0, 0.2), (1.0, -2.0), -0.5, 0.3)

    again = Detector.from_spec(json.loads(json.dumps(detector.to_spec())))

    assert again == detector
    assert again.probability({"outside_logit": 0.0, "prototype_max": 0.5}) == pytest.approx(
        1 / (1 + np.e**0.5)
    )
    with pytest.raises(ValueError, match="unknown"):
        Detector.from_spec({**detector.to_spec(), "features": ["loudness", "prototype_max"]})
    with pytest.raises(ValueError, match="one mean"):
        Detector.from_spec({**detector.to_spec(), "weights": [1.0]})


def test_figures_helpers() -> None:
    assert total_variation([0.5, 0.5, 0.0], [0.0, 0.5, 0.5]) == pytest.approx(0.5)
    assert total_variation([1.0, 0.0], [1.0, 0.0]) == 0.0
    assert clipped_logit(0.5) == 0.0
    assert clipped_logit(1.0) == 10.0


# --- heads with a detector ----------------------------------------------------------------------


def test_log_odds_figures_at_the_prior(base: LogOddsHead) -> None:
    figures = base.outside_figures(output(base, np.zeros(400)))

    assert figures["named_max"] == pytest.approx(0.0, abs=1e-6)
    assert figures["disagreement"] == pytest.approx(0.0, abs=1e-6)  # both taggers alone: uniform
    assert figures["outside_logit"] == pytest.approx(clipped_logit(0.25), abs=1e-4)


def test_log_odds_detector_flags_and_names_only_with_evidence_for_the_name(
    base: LogOddsHead, tmp_path: Path
) -> None:
    spec = json.loads(json.dumps(base.artifact.spec))
    # Flags every song (bias 20): what the name says is then up to the tags alone.
    spec["outside"]["detector"] = Detector(("named_max",), (0.0,), (1.0,), (0.0,), 20.0).to_spec()
    head = load_head(write_artifact(tmp_path / "flag-all", spec))
    assert isinstance(head, LogOddsHead)

    assert head.outside(output(base, np.zeros(400), {"jazz": 0.7})) == "jazz"
    assert head.outside(output(base, np.zeros(400))) == OUTSIDE_UNNAMED  # no tag names it: "none"
    assert base.outside(output(base, np.zeros(400))) is None  # the shipped rule: 0.25 < 0.5


def examples(base: LogOddsHead, counts: dict[str, int]) -> list[fewshot.Example]:
    return [
        fewshot.Example(label, fewshot.backbone_to_dict(output(base, near(label, seed=i))))
        for label, count in counts.items()
        for i in range(count)
    ]


def prototypes(
    tmp_path: Path, base: LogOddsHead, outside: dict[str, int] | None = None, **spec: object
) -> PrototypeHead:
    artifact = fewshot.build_prototype_artifact(
        tmp_path / "fs",
        base.artifact,
        examples(base, {"rock": 6, "dance": 6}),
        name="fs",
        version="1",
        outside_examples=examples(base, outside or {}),
    )
    if spec:
        artifact = write_artifact(tmp_path / "fs", {**artifact.spec, **spec})
    head = load_head(artifact)
    assert isinstance(head, PrototypeHead)
    return head


def test_prototype_detector_flags_a_song_unlike_every_prototype(base: LogOddsHead, tmp_path: Path) -> None:
    # P(outside) = sigmoid(-10 (similarity - 0.5)): flagged when the nearest prototype is below 0.5.
    detector = Detector(("prototype_max",), (0.5,), (1.0,), (-10.0,), 0.0)
    head = prototypes(tmp_path, base, outside_detector=detector.to_spec())
    rock, stranger = output(base, near("rock", seed=50)), output(base, near("classical", seed=50))

    assert head.prototype_max(rock) > 0.5 > head.prototype_max(stranger)
    assert head_outside(head, rock, head.predict(rock, np.zeros((0, 187, 96)))) is None
    assert head_outside(head, stranger, head.predict(stranger, np.zeros((0, 187, 96)))) == OUTSIDE_UNNAMED


def test_prototype_detector_needs_a_log_odds_base(base: LogOddsHead, tmp_path: Path) -> None:
    head = prototypes(tmp_path, base)
    zeroshot = load_artifact(LOGODDS_ARTIFACT_DIR.parent / "zeroshot-7")
    detector = Detector(("prototype_max",), (0.5,), (1.0,), (-10.0,), 0.0).to_spec()
    spec = {**head.artifact.spec, "base": str(zeroshot.path), "outside_detector": detector}

    with pytest.raises(ArtifactError, match="tag-logodds base"):
        load_head(write_artifact(tmp_path / "bad", spec))


def test_a_prototype_artifact_may_name_its_base_relative_to_its_folder(
    base: LogOddsHead, tmp_path: Path
) -> None:
    head = prototypes(tmp_path, base)
    relative = os.path.relpath(LOGODDS_ARTIFACT_DIR, tmp_path / "moved")

    moved = load_head(write_artifact(tmp_path / "moved", {**head.artifact.spec, "base": relative}))

    assert isinstance(moved, PrototypeHead)
    assert moved.base.artifact.path == LOGODDS_ARTIFACT_DIR.resolve()


def test_prototypes_are_centred_on_the_genres_mean_not_the_examples(
    base: LogOddsHead, tmp_path: Path
) -> None:
    # Ten rock examples and one dance: the centre lies midway between the two genres' means, so a
    # rock song still points towards rock (with the examples' mean it would sit near the centre).
    examples = [
        fewshot.Example("rock", fewshot.backbone_to_dict(output(base, near("rock", i)))) for i in range(10)
    ]
    examples.append(fewshot.Example("dance", fewshot.backbone_to_dict(output(base, near("dance", 0)))))

    artifact = fewshot.build_prototype_artifact(
        tmp_path / "fs", base.artifact, examples, name="fs", version="1"
    )

    rock = np.mean([e.backbone["embedding"] for e in examples[:10]], axis=0)
    dance = np.asarray(examples[10].backbone["embedding"])
    np.testing.assert_allclose(artifact.spec["center"], (rock + dance) / 2, atol=1e-5)


# --- outside-genre prototypes -------------------------------------------------------------------


def test_outside_prototypes_are_built_beside_the_genres_and_only_from_outside_labels(
    base: LogOddsHead, tmp_path: Path
) -> None:
    head = prototypes(tmp_path, base, outside={"reggae": 4, "polka": 1, "rock": 3})

    assert set(head.prototypes) == {"rock", "dance"}
    assert {k: v["count"] for k, v in head.artifact.spec["outside_prototypes"].items()} == {
        "reggae": 4,
        "polka": 1,
    }  # an "outside" example labelled with one of our genres is not an outside genre
    reggae = output(base, near("reggae", seed=60))
    assert head.prototype_figures(reggae)["outside_prototype_max"] > 0.5 > head.prototype_max(reggae)


def test_a_flagged_song_is_named_after_the_nearest_outside_prototype_with_enough_examples(
    base: LogOddsHead, tmp_path: Path
) -> None:
    # Flagged when nearer to an outside prototype than 0.5 (P = sigmoid(10 (similarity - 0.5))).
    detector = Detector(("outside_prototype_max",), (0.5,), (1.0,), (10.0,), 0.0)
    head = prototypes(tmp_path, base, outside={"reggae": 4, "polka": 2}, outside_detector=detector.to_spec())
    reggae, polka = output(base, near("reggae", seed=61)), output(base, near("polka", seed=61))
    rock = output(base, near("rock", seed=61))

    def verdict(song: BackboneOutput) -> str | None:
        return head_outside(head, song, head.predict(song, np.zeros((0, 187, 96))))

    assert verdict(reggae) == "reggae"
    assert verdict(polka) == OUTSIDE_UNNAMED  # flagged, but 2 polka songs are too few to name it
    assert verdict(rock) is None


def test_an_outside_prototype_name_needs_it_nearer_than_every_genre(
    base: LogOddsHead, tmp_path: Path
) -> None:
    head = prototypes(tmp_path, base, outside={"reggae": 4})
    between = output(base, 0.8 * near("rock", seed=62) + 0.2 * near("reggae", seed=62))
    reggae = output(base, near("reggae", seed=62))

    assert head.outside_prototype_name(between) is None  # nearer rock than reggae
    assert head.outside_prototype_name(reggae) == "reggae"


def test_an_artifact_without_outside_prototypes_gives_no_such_figure(
    base: LogOddsHead, tmp_path: Path
) -> None:
    head = prototypes(tmp_path, base)

    assert "outside_prototypes" not in head.artifact.spec
    assert set(head.prototype_figures(output(base, near("rock", seed=63)))) == {"prototype_max"}
    assert head.outside_prototype_name(output(base, near("reggae", seed=63))) is None


def test_a_detector_that_weighs_outside_prototypes_needs_them(base: LogOddsHead, tmp_path: Path) -> None:
    head = prototypes(tmp_path, base)
    detector = Detector(("outside_prototype_max",), (0.5,), (1.0,), (10.0,), 0.0).to_spec()

    with pytest.raises(ArtifactError, match="outside_prototypes"):
        load_head(write_artifact(tmp_path / "bad", {**head.artifact.spec, "outside_detector": detector}))


def test_fit_temperature_recovers_the_temperature_the_genres_were_drawn_with() -> None:
    rng = np.random.default_rng(7)
    songs, genres, true_t = 3000, 7, 0.25
    base_logp = np.log(rng.dirichlet(np.ones(genres), songs))
    evidence = rng.uniform(-0.5, 0.5, (songs, genres))
    z = base_logp + evidence / true_t
    probs = np.exp(z - z.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    truth = [int(rng.choice(genres, p=row)) for row in probs]

    fitted = folds.fit_temperature(base_logp, evidence, truth)

    assert 0.8 * true_t < fitted < 1.25 * true_t
    # Evidence that carries nothing about the genres: the fit turns it down (the largest T offered).
    assert folds.fit_temperature(base_logp, rng.uniform(-0.5, 0.5, (songs, genres)), truth) == max(
        folds.TEMPERATURES
    )


# --- the outside margin the sequential reader guards --------------------------------------------


def test_the_log_odds_margin_is_positive_exactly_when_the_song_is_flagged(base: LogOddsHead) -> None:
    songs = [output(base, np.zeros(400), {"jazz": p}) for p in (0.0005, 0.05, 0.3, 0.6, 0.9, 0.99)]
    margins = [outside_margin(base, song) for song in songs]

    assert [m is not None and m >= 0 for m in margins] == [base.outside(s) is not None for s in songs]
    assert margins == sorted(margins)  # more jazz evidence, further towards flagging
    assert any(m is not None and m > 0 for m in margins)
    assert any(m is not None and m < 0 for m in margins)
    at_prior = output(base, np.zeros(400))  # outside posterior 0.25 against the 0.5 threshold
    assert outside_margin(base, at_prior) == pytest.approx(clipped_logit(0.25), abs=1e-4)


def test_a_prototype_detectors_margin_is_its_logit_against_its_threshold(
    base: LogOddsHead, tmp_path: Path
) -> None:
    detector = Detector(("prototype_max",), (0.5,), (1.0,), (-10.0,), 0.0, flag_at=0.3)
    head = prototypes(tmp_path, base, outside_detector=detector.to_spec())
    songs = [output(base, near(label, seed=60)) for label in ("rock", "dance", "classical", "reggae")]

    for song in songs:
        margin = outside_margin(head, song)
        flagged = head_outside(head, song, head.predict(song, np.zeros((0, 187, 96)))) is not None
        assert margin is not None
        assert (margin >= 0) == flagged
        p = detector.probability(head.prototype_figures(song))
        assert margin == pytest.approx(clipped_logit(p) - clipped_logit(0.3), abs=1e-9)


def test_a_prototype_head_without_a_detector_has_its_bases_margin(base: LogOddsHead, tmp_path: Path) -> None:
    head = prototypes(tmp_path, base)
    song = output(base, near("rock", seed=61), {"jazz": 0.9})

    assert outside_margin(head, song) == pytest.approx(outside_margin(base, song))


def test_a_tag_mapping_head_has_no_margin() -> None:
    from worker.heads.genre_head import ZEROSHOT_ARTIFACT_DIR

    head = load_head(load_artifact(ZEROSHOT_ARTIFACT_DIR))
    song = BackboneOutput(np.full(50, 0.1), np.full(50, 0.1), np.zeros(400), np.zeros((1, 400)))

    assert outside_margin(head, song) is None
