"""The log-odds head (worker.heads.genre_head.LogOddsHead) and its artifact (worker.heads.logodds).

Fake backbone outputs put every tag exactly at its prior, then raise the tags a case needs: a tag at
its prior carries no evidence, so the expectations below follow from the construction by hand.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from worker.backbone.musicnn import MSD_TAGS, MTT_TAGS, BackboneOutput
from worker.heads import genre_head, logodds
from worker.heads.genre_head import (
    LOGODDS_ARTIFACT_DIR,
    OUTSIDE_UNNAMED,
    ArtifactError,
    LogOddsHead,
    load_artifact,
)

SLUGS = ["classical", "dance", "electronica", "pop", "rnb", "rock", "shoegaze"]


@pytest.fixture(scope="module")
def head() -> LogOddsHead:
    return LogOddsHead(load_artifact(LOGODDS_ARTIFACT_DIR))


def at_prior(
    head: LogOddsHead, msd: dict[str, float] | None = None, mtt: dict[str, float] | None = None
) -> BackboneOutput:
    msd_probs = np.array([head.priors[("msd", t)] for t in MSD_TAGS])
    mtt_probs = np.array([head.priors[("mtt", t)] for t in MTT_TAGS])
    for tag, p in (msd or {}).items():
        msd_probs[MSD_TAGS.index(tag)] = p
    for tag, p in (mtt or {}).items():
        mtt_probs[MTT_TAGS.index(tag)] = p
    return BackboneOutput(msd_probs, mtt_probs, np.zeros(400), np.zeros((1, 400)))


def test_every_tag_at_its_prior_is_no_evidence_so_the_posterior_is_the_prior(head: LogOddsHead) -> None:
    post = head.posterior(at_prior(head))

    np.testing.assert_allclose(post.in_taxonomy, 1 / 7, atol=1e-4)
    shares = head.artifact.spec["hypothesis_priors"]
    assert post.outside == pytest.approx(shares["outside_named"] + shares["outside_unnamed"], abs=1e-4)
    assert head.outside(at_prior(head)) is None  # 0.25 < flag_at 0.5


def test_a_tag_log_lr_is_its_log_odds_against_its_prior(head: LogOddsHead) -> None:
    prior = head.priors[("msd", "House")]

    lrs = head.tag_log_lr(at_prior(head, {"House": 0.1}))

    expected = math.log(0.1 / 0.9) - math.log(prior / (1 - prior))
    assert lrs[("msd", "House")] == pytest.approx(min(expected, head.clip))
    assert lrs[("msd", "rock")] == pytest.approx(0.0, abs=1e-6)


def test_a_rare_tag_outweighs_a_common_one_at_the_same_probability(head: LogOddsHead) -> None:
    # rock is ~14 % of MSD clips and House ~0.2 %: 0.3 is no news for rock, strong news for House.
    probs = head.predict(at_prior(head, {"rock": 0.3, "House": 0.3}, {"techno": 0.3}), np.zeros((1, 187, 96)))

    assert SLUGS[int(np.argmax(probs))] == "dance"
    assert probs.sum() == pytest.approx(1.0)


def test_against_tags_turn_jazzy_piano_away_from_classical(head: LogOddsHead) -> None:
    piano = {"classical": 0.3, "piano": 0.5}
    plain = head.posterior(at_prior(head, {}, piano))
    jazzy = head.posterior(at_prior(head, {"jazz": 0.6}, piano))

    assert plain.in_taxonomy[0] > jazzy.in_taxonomy[0]
    assert head.outside(at_prior(head, {"jazz": 0.6}, piano)) == "jazz"


def test_reggae_like_clip_with_no_genre_evidence_is_flagged_unnamed(head: LogOddsHead) -> None:
    # Every genre's tags below their prior, no outside tag above: "none of our seven genres".
    quiet = {t: 0.001 for group in head.genres.values() for t in group.get("msd", {})}
    quiet_mtt = {t: 0.001 for group in head.genres.values() for t in group.get("mtt", {})}

    output = at_prior(head, quiet, quiet_mtt)

    post = head.posterior(output)
    assert post.outside > 0.5
    assert post.unnamed > max(post.named.values())
    assert head.outside(output) == OUTSIDE_UNNAMED


def test_strong_in_genre_evidence_is_not_flagged(head: LogOddsHead) -> None:
    output = at_prior(head, {"rock": 0.8, "hard rock": 0.4}, {"rock": 0.6, "guitar": 0.5})

    assert head.outside(output) is None
    assert SLUGS[int(np.argmax(head.predict(output, np.zeros((1, 187, 96)))))] == "rock"


def test_taggers_pool_geometrically_so_disagreement_weakens_the_winner(head: LogOddsHead) -> None:
    agree = head.posterior(at_prior(head, {"rock": 0.7}, {"rock": 0.5}))
    disagree = head.posterior(at_prior(head, {"rock": 0.7}, {"classical": 0.8}))

    assert agree.genres[5] > disagree.genres[5]
    assert disagree.outside > agree.outside


def test_head_rejects_unknown_tags(tmp_path) -> None:
    spec = json.loads((genre_head.LOGODDS_ARTIFACT_DIR / "artifact.json").read_text())
    spec["genres"]["rock"]["msd"]["polka"] = 1
    with pytest.raises(ArtifactError, match="polka"):
        LogOddsHead(genre_head.write_artifact(tmp_path, spec))


def test_shipped_priors_are_what_the_checkpoints_give() -> None:
    shipped = load_artifact(LOGODDS_ARTIFACT_DIR).spec["tag_priors"]

    rebuilt = logodds.build_spec()["tag_priors"]

    assert shipped == rebuilt
    # The most frequent tags of each dataset come out on top.
    msd_top = sorted(shipped["msd"], key=lambda t: -shipped["msd"][t]["prior"])[:2]
    assert msd_top == ["rock", "pop"]


def test_a_one_tagger_head_reads_only_that_taggers_tags(head: LogOddsHead, tmp_path) -> None:
    spec = logodds.one_tagger_spec(load_artifact(LOGODDS_ARTIFACT_DIR).spec, ("mtt",))
    mtt_only = LogOddsHead(genre_head.write_artifact(tmp_path, spec))
    assert set(spec["tag_priors"]) == {"mtt"}
    assert all(set(group) <= {"mtt", "against"} for group in spec["genres"].values())
    assert "jazz" not in spec["outside"]["named"]  # named by an MSD tag only

    # MSD tags carry no evidence for it; an MTT tag moves it as it moves the full head.
    jazzy = mtt_only.predict(at_prior(head, {"jazz": 0.9, "rock": 0.9}), np.zeros((1, 187, 96)))
    np.testing.assert_allclose(jazzy, 1 / 7, atol=1e-4)
    classical = mtt_only.predict(at_prior(head, mtt={"classical": 0.9}), np.zeros((1, 187, 96)))
    assert SLUGS[int(np.argmax(classical))] == "classical"
