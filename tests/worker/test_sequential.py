"""Half the patches first, the rest while the top genre or the outside verdict is in doubt (sequential)."""

from __future__ import annotations

import numpy as np
import pytest

from worker.audio.features import N_MELS, PATCH_FRAMES
from worker.backbone import sequential
from worker.backbone.sequential import (
    PatchOutputs,
    first_stage,
    outside_settled,
    read_clip,
    top_genre_settled,
)
from worker.backbone.serving import get_backbone


def votes_score(votes: np.ndarray):
    """A head whose genre probabilities are the mean of per-patch probability vectors."""

    def score(rows: np.ndarray) -> np.ndarray:
        return votes[rows].mean(axis=0)

    return score


def test_the_first_stage_is_every_other_patch_spread_over_the_clip() -> None:
    assert first_stage(10).tolist() == [1, 3, 5, 7, 9]
    assert first_stage(3).tolist() == [0, 2]
    assert first_stage(1).tolist() == [0]


def test_patches_that_all_say_the_same_settle_the_top_genre() -> None:
    votes = np.tile([0.6, 0.3, 0.1], (5, 1))

    assert top_genre_settled(5, 10, votes_score(votes))


def test_patches_that_disagree_leave_a_narrow_lead_in_doubt() -> None:
    # Three patches say genre 0, two say genre 1: genre 0 leads, but leaving one patch out can flip it.
    votes = np.array([[0.9, 0.1, 0.0]] * 3 + [[0.05, 0.95, 0.0]] * 2)

    assert not top_genre_settled(5, 10, votes_score(votes))


def test_a_lead_larger_than_its_standard_error_is_settled_even_with_noise() -> None:
    rng = np.random.default_rng(3)
    votes = np.array([0.7, 0.2, 0.1]) + rng.normal(0.0, 0.02, size=(5, 3))

    assert top_genre_settled(5, 10, votes_score(np.clip(votes, 1e-3, None)))


def test_a_tie_is_never_settled() -> None:
    votes = np.tile([0.45, 0.45, 0.1], (5, 1))

    assert not top_genre_settled(5, 10, votes_score(votes))


def test_having_read_everything_is_settled_and_one_patch_is_not() -> None:
    votes = np.tile([0.6, 0.3, 0.1], (10, 1))

    assert top_genre_settled(10, 10, votes_score(votes))
    assert not top_genre_settled(1, 10, votes_score(votes[:1]))


def test_the_critical_value_is_students_t_for_the_values_read() -> None:
    assert sequential.critical_value(5) == pytest.approx(2.1318, abs=1e-4)  # t(0.95; 4 df)
    assert sequential.critical_value(1000) == pytest.approx(1.6464, abs=1e-3)  # near the normal's 1.645


def test_a_stricter_confidence_reads_more() -> None:
    rng = np.random.default_rng(0)
    votes = np.clip(np.array([0.5, 0.4, 0.1]) + rng.normal(0.0, 0.05, size=(5, 3)), 1e-3, None)
    score = votes_score(votes)

    assert top_genre_settled(5, 10, score, confidence=0.55)
    assert not top_genre_settled(5, 10, score, confidence=0.999999)


def test_an_outside_margin_far_from_the_boundary_on_every_patch_is_settled() -> None:
    flagged = np.array([2.0, 2.2, 1.9, 2.1, 2.0])
    kept = -flagged

    assert outside_settled(5, 10, lambda rows: float(flagged[rows].mean()))
    assert outside_settled(5, 10, lambda rows: float(kept[rows].mean()))


def test_an_outside_margin_that_one_patch_can_flip_is_in_doubt() -> None:
    # Four patches sit just under the boundary, one far over it: flagged on the mean, but not surely.
    margins = np.array([-0.2, -0.1, -0.3, -0.2, 2.0])

    assert float(margins.mean()) > 0
    assert not outside_settled(5, 10, lambda rows: float(margins[rows].mean()))


def patch_outputs(n: int) -> PatchOutputs:
    """n patches whose MSD outputs say genre 0 clearly; the MTT column 0 carries an outside margin."""
    msd = np.tile([0.8, 0.1, 0.1], (n, 1))
    mtt = np.zeros((n, 3))
    mtt[:, 0] = [(-0.2, -0.1, -0.3, -0.2, 2.0)[i % 5] for i in range(n)]
    return PatchOutputs(msd, mtt, np.zeros((n, 400)))


def read_with(outside) -> int:
    outputs = patch_outputs(10)
    read_rows: list[int] = []

    def read(rows: np.ndarray) -> PatchOutputs:
        read_rows.extend(rows.tolist())
        return outputs.take(rows)

    _, _, count = read_clip(np.zeros((10, 1, 1)), read, lambda output, patches: output.msd, outside=outside)
    assert len(read_rows) == len(set(read_rows)) == count  # no patch read twice
    return count


def test_a_settled_genre_with_an_outside_verdict_in_doubt_reads_every_patch() -> None:
    assert read_with(None) == 5  # the top genre alone is settled after half
    assert read_with(lambda output: float(output.mtt[0])) == 10  # the outside verdict is not
    assert read_with(lambda output: None) == 5  # a head without an outside boundary: nothing to guard
    assert read_with(lambda output: 5.0 + float(output.mtt[0])) == 5  # surely flagged: half is enough


def test_joined_outputs_are_back_in_patch_order() -> None:
    rng = np.random.default_rng(1)
    whole = PatchOutputs(rng.random((10, 50)), rng.random((10, 50)), rng.random((10, 400)))
    first, rest = first_stage(10), np.array([0, 2, 4, 6, 8])
    part, other = whole.take(first), whole.take(rest)

    joined = part.joined(first, other, rest)

    np.testing.assert_array_equal(joined.embeddings, whole.embeddings)
    np.testing.assert_allclose(joined.clip().msd, whole.msd.mean(axis=0))


@pytest.mark.parametrize(("value", "expected"), [(None, True), ("1", True), ("0", False), ("off", False)])
def test_the_environment_switch(monkeypatch, value, expected) -> None:
    if value is None:
        monkeypatch.delenv(sequential.ENV, raising=False)
    else:
        monkeypatch.setenv(sequential.ENV, value)

    assert sequential.enabled() is expected


# --- the predictor's path, with the real model ---------------------------------------------------


@pytest.fixture(scope="module")
def clip_patches(music) -> np.ndarray:
    from worker.audio import features
    from worker.audio.decode import load_audio

    audio = load_audio(music["mp3"])
    patches = features.extract(audio.samples, audio.sample_rate).patches
    assert patches.shape[1:] == (PATCH_FRAMES, N_MELS)
    assert len(patches) == 10
    return patches


@pytest.mark.model
def test_with_early_exit_off_the_predictor_reads_every_patch(predictor, clip_patches, monkeypatch) -> None:
    monkeypatch.setenv(sequential.ENV, "0")
    whole = get_backbone()(clip_patches)

    output, probs, read = predictor.score_patches(clip_patches)

    assert read == 10
    np.testing.assert_allclose(output.msd, whole.msd, atol=1e-6)
    np.testing.assert_allclose(output.patch_embeddings, whole.patch_embeddings, atol=1e-6)
    assert probs.sum() == pytest.approx(1.0, abs=1e-6)


@pytest.mark.model
def test_a_clip_in_doubt_gets_the_same_answer_as_reading_everything(
    predictor, clip_patches, monkeypatch
) -> None:
    monkeypatch.setenv(sequential.ENV, "0")
    _, everything, _ = predictor.score_patches(clip_patches)
    monkeypatch.setenv(sequential.ENV, "1")
    monkeypatch.setattr(sequential, "top_genre_settled", lambda *args, **kwargs: False)

    output, probs, read = predictor.score_patches(clip_patches)

    assert read == 10
    np.testing.assert_allclose(probs, everything, atol=1e-6)
    np.testing.assert_allclose(
        output.patch_embeddings, get_backbone()(clip_patches).patch_embeddings, atol=1e-6
    )


@pytest.mark.model
def test_a_settled_clip_is_scored_on_its_first_half(predictor, clip_patches, monkeypatch) -> None:
    monkeypatch.setenv(sequential.ENV, "1")
    monkeypatch.setattr(sequential, "top_genre_settled", lambda *args, **kwargs: True)
    monkeypatch.setattr(sequential, "outside_settled", lambda *args, **kwargs: True)
    half = get_backbone()(clip_patches[first_stage(10)])

    output, probs, read = predictor.score_patches(clip_patches)

    assert read == 5
    np.testing.assert_allclose(output.mtt, half.mtt, atol=1e-6)
    assert output.patch_embeddings.shape == (5, 400)
    assert probs.sum() == pytest.approx(1.0, abs=1e-6)


@pytest.mark.model
def test_a_settled_genre_with_the_outside_verdict_in_doubt_reads_every_patch(
    predictor, clip_patches, monkeypatch
) -> None:
    monkeypatch.setenv(sequential.ENV, "1")
    monkeypatch.setattr(sequential, "top_genre_settled", lambda *args, **kwargs: True)
    monkeypatch.setattr(sequential, "outside_settled", lambda *args, **kwargs: False)

    _, _, read = predictor.score_patches(clip_patches)

    assert read == 10


@pytest.mark.parametrize(("value", "expected"), [("", None), (" 3 ", 3), ("10", 10)])
def test_a_fixed_number_of_patches_from_the_environment(monkeypatch, value, expected) -> None:
    monkeypatch.setenv(sequential.PATCHES_ENV, value)

    assert sequential.fixed_patches() == expected


@pytest.mark.parametrize("value", ["0", "-2", "three", "2.5"])
def test_a_fixed_number_of_patches_must_be_a_whole_positive_number(monkeypatch, value) -> None:
    monkeypatch.setenv(sequential.PATCHES_ENV, value)

    with pytest.raises(ValueError, match=sequential.PATCHES_ENV):
        sequential.fixed_patches()


def test_a_fixed_reading_reads_that_many_patches_spread_over_the_clip_and_no_more() -> None:
    outputs = patch_outputs(10)
    asked: list[list[int]] = []

    def read(rows: np.ndarray) -> PatchOutputs:
        asked.append(rows.tolist())
        return outputs.take(rows)

    output, probs, count = sequential.read_fixed(np.zeros((10, 1, 1)), read, lambda o, p: o.msd, 3)

    assert count == 3
    assert asked == [sequential.spread(np.arange(10), 3).tolist()]  # one read, spread, not the first three
    np.testing.assert_allclose(output.mtt, outputs.take(np.array(asked[0])).clip().mtt)
    assert sequential.read_fixed(np.zeros((2, 1, 1)), outputs.take, lambda o, p: o.msd, 3)[2] == 2


@pytest.mark.model
def test_the_predictor_reads_the_fixed_number_of_patches_asked_for(
    predictor, clip_patches, monkeypatch
) -> None:
    monkeypatch.setenv(sequential.ENV, "1")
    monkeypatch.setenv(sequential.PATCHES_ENV, "3")
    spread_three = get_backbone()(clip_patches[sequential.spread(np.arange(10), 3)])

    output, probs, read = predictor.score_patches(clip_patches)

    assert read == 3
    np.testing.assert_allclose(output.msd, spread_three.msd, atol=1e-6)
    assert predictor.score_patches(clip_patches, early_exit=False)[2] == 10  # every patch still wins
