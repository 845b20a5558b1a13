"""The weighted log-odds genre artifact: tag priors from the taggers' checkpoints, and the mapping.

Why log-odds: musicnn's taggers were trained with a per-tag cross-entropy, so a clip-level output p
estimates P(tag | audio) under the training set's base rate (prior) pi of that tag. Bayes' rule then
gives the likelihood ratio the audio carries for the tag, independent of that base rate:

    LR_tag = odds(p) / odds(pi),  log LR_tag = logit(p) - logit(pi)

"House" at 0.3 is strong evidence (pi is 0.2 %), "rock" at 0.3 is none (pi is about 14 %); the
old max-over-tags head read them as equal. `build_spec()` writes the priors into the artifact, with
the method, so the head needs no checkpoint and no TensorFlow to score.

Where the priors come from (no tag counts ship with the wheel): the penultimate layer of each tagger
ends in a batch norm whose moving statistics describe the training set, so its output over the
training clips has per-unit mean beta and standard deviation |gamma| (sqrt(var / (var + eps))). The
tag logit is linear in that layer, so over the training clips it has mean m = W'beta + b and, if the
units were independent, variance s^2 = sum_j W_j^2 gamma_j^2. The base rate is the mean of the
sigmoid over those clips, approximated by the probit rule pi = sigmoid(m / sqrt(1 + pi_const s^2 / 8)).
The units are correlated, so s is underestimated and rare tags' priors come out low (their evidence is
then slightly overstated); the log-LR is clipped (`log_lr_clip`) for that reason. The ranking this
gives matches the datasets' published tag frequencies (MSD: rock, pop, indie, alternative, female
vocalists first; MTT: slow, guitar, fast, strings, classical, drums first).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from worker.backbone.musicnn import BN_EPSILON, MSD_TAGS, MTT_TAGS, load_weights
from worker.heads.genre_head import LOGODDS_ARTIFACT_DIR, write_artifact

TAGGERS = {"msd": ("MSD_musicnn", MSD_TAGS), "mtt": ("MTT_musicnn", MTT_TAGS)}

# Mixture weights: a genre is a mixture of the sub-styles its tags name (rock = classic rock or
# metal or punk ...), so its likelihood ratio is the weighted mean of its tags' ratios. 1 = the tag
# names the genre, 0.5 = a typical trait, 0.3 = a weak hint. "against" tags lower a genre when they
# are above their prior (each is a confusion the issue reports: jazz called classical, hip-hop called
# electronica, pop called rock).
GENRES: dict[str, dict[str, dict[str, Any]]] = {
    "classical": {
        "msd": {"instrumental": 0.5},
        "mtt": {
            "classical": 1, "classic": 0.5, "strings": 0.5, "violin": 0.5, "cello": 0.5, "harpsichord": 0.5,
            "opera": 0.5, "choir": 0.3, "choral": 0.3, "harp": 0.3, "flute": 0.3, "piano": 0.3,
        },
        "against": {"msd": {"jazz": 0.5, "blues": 0.3}, "mtt": {"drums": 0.3, "beat": 0.3}},
    },
    "dance": {
        "msd": {"dance": 1, "House": 1, "electro": 0.7, "party": 0.5, "funk": 0.3},
        "mtt": {"dance": 1, "techno": 1, "beat": 0.5, "beats": 0.3},
        "against": {"mtt": {"slow": 0.3}},
    },
    "electronica": {
        "msd": {"electronic": 1, "electronica": 1, "chillout": 0.7, "chill": 0.5, "ambient": 0.3},
        "mtt": {"electronic": 1, "synth": 0.7, "new age": 0.3},
        "against": {"msd": {"Hip-Hop": 0.5, "rnb": 0.3}},
    },
    "pop": {
        "msd": {"pop": 1, "catchy": 0.7, "happy": 0.5, "female vocalists": 0.5, "female vocalist": 0.5,
                "indie pop": 0.3},
        "mtt": {"pop": 1, "female vocal": 0.5, "female voice": 0.5, "singing": 0.5, "vocal": 0.3},
        "against": {"msd": {"hard rock": 0.3, "heavy metal": 0.3}},
    },
    "rnb": {
        "msd": {"rnb": 1, "soul": 1, "Hip-Hop": 1, "funk": 0.5, "sexy": 0.5},
        "mtt": {"beats": 0.5},
        "against": {},
    },
    "rock": {
        "msd": {
            "rock": 1, "alternative rock": 1, "classic rock": 1, "hard rock": 1, "metal": 1, "heavy metal": 1,
            "punk": 1, "Progressive rock": 1, "indie rock": 0.7,
        },
        "mtt": {"rock": 1, "metal": 1, "loud": 0.5, "guitar": 0.3},
        "against": {"msd": {"catchy": 0.3, "female vocalists": 0.3}},
    },
    "shoegaze": {
        "msd": {"beautiful": 0.7, "indie": 0.5, "alternative": 0.5, "experimental": 0.5, "ambient": 0.5,
                "Mellow": 0.5, "indie pop": 0.5, "sad": 0.5},
        "mtt": {"ambient": 0.7, "soft": 0.5, "weird": 0.5, "slow": 0.3},
        "against": {},
    },
}  # fmt: skip

# Genres outside the taxonomy that a tag can name. Reggae has no tag: it can only be caught by the
# unnamed "none of our genres" hypothesis.
OUTSIDE_NAMED: dict[str, dict[str, dict[str, float]]] = {
    "jazz": {"msd": {"jazz": 1}},
    "blues": {"msd": {"blues": 1}},
    "country": {"msd": {"country": 1}, "mtt": {"country": 1}},
    "folk": {"msd": {"folk": 1, "acoustic": 0.3}},
    "Indian music": {"mtt": {"indian": 1, "sitar": 1}},
    "easy listening": {"msd": {"easy listening": 1}},
}

LABELS = ["classical", "dance", "electronica", "pop", "rnb", "rock", "shoegaze"]
DISPLAY_NAMES = ["Classical", "Dance", "Electronica", "Pop", "R&B", "Rock", "Shoegaze & dream pop"]


def tag_priors(model: str, tags: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Per tag: the training-population mean logit, its spread, and the base rate (see module doc)."""
    w = load_weights(model)
    gamma, beta = w["batch_normalization_10/gamma"], w["batch_normalization_10/beta"]
    var = w["batch_normalization_10/moving_variance"]
    kernel, bias = w["dense_1/kernel"].astype(np.float64), w["dense_1/bias"].astype(np.float64)
    mean = beta @ kernel + bias
    spread = np.sqrt(((gamma**2 * var / (var + BN_EPSILON))[:, None] * kernel**2).sum(axis=0))
    prior = 1.0 / (1.0 + np.exp(-mean / np.sqrt(1.0 + math.pi * spread**2 / 8.0)))
    return {
        tag: {"prior": round(float(p), 6), "mean_logit": round(float(m), 4), "sd_logit": round(float(s), 4)}
        for tag, p, m, s in zip(tags, prior, mean, spread, strict=True)
    }


def restrict(groups: dict[str, dict[str, Any]], taggers: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """The hypotheses' tag groups keeping only these taggers' tags ("against" groups likewise). A
    hypothesis left without tags has log LR 0 from its own tags: it rests on its prior."""
    out: dict[str, dict[str, Any]] = {}
    for name, group in groups.items():
        kept: dict[str, Any] = {model: tags for model, tags in group.items() if model in taggers}
        if "against" in group:
            kept["against"] = {m: tags for m, tags in group["against"].items() if m in taggers}
        out[name] = kept
    return out


def build_spec(taggers: tuple[str, ...] = ("msd", "mtt")) -> dict[str, Any]:
    """The shipped artifact's spec; with one tagger, the same head restricted to that tagger's tags
    (a configuration that needs only that tagger run, half the backbone's arithmetic)."""
    return one_tagger_spec(_spec(), taggers)


def one_tagger_spec(spec: dict[str, Any], taggers: tuple[str, ...]) -> dict[str, Any]:
    """A log-odds spec restricted to these taggers' tags and priors (unchanged for both taggers)."""
    if tuple(taggers) == ("msd", "mtt"):
        return spec
    spec = json.loads(json.dumps(spec))
    spec["name"] = f"{spec['name']}-{'-'.join(taggers)}"
    spec["taggers"] = list(taggers)
    spec["genres"] = restrict(spec["genres"], taggers)
    spec["outside"]["named"] = {
        name: group for name, group in restrict(spec["outside"]["named"], taggers).items() if group
    }
    spec["tag_priors"] = {model: spec["tag_priors"][model] for model in taggers}
    spec["backbone"] = f"musicnn 0.1.0 ({', '.join(TAGGERS[t][0] for t in taggers)} only)"
    return spec


def _spec() -> dict[str, Any]:
    return {
        "format": 1,
        "name": "musicnn-logodds-7",
        "version": "2.0.0",
        "kind": "tag-logodds",
        "description": (
            "Zero-shot genre head over the musicnn MSD and MTT taggers. Each tag's clip-level probability "
            "p is turned into a likelihood ratio against its training-set prior pi: log LR = logit(p) - "
            "logit(pi), clipped to +-log_lr_clip. A genre's ratio per tagger is the weight-averaged ratio "
            "of its tags (a genre is a mixture of the sub-styles its tags name), times exp(-v * max(0, "
            "log LR)) for each 'against' tag; the two taggers are pooled geometrically (mean of log LRs, "
            "as they hear the same audio and are not independent). Posterior over the seven genres, the "
            "named outside genres and an unnamed 'none of our genres' hypothesis (LR 1: a clip that is "
            "typical of the training population and stands out for no genre) = prior x LR^(1/temperature), "
            "normalised. The genre scores shown are the posterior given that the song is in the taxonomy; "
            "the song is flagged outside when the outside hypotheses together pass outside.flag_at."
        ),
        "calibration": (
            "No labelled data: calibrated by construction. The taggers' sigmoids are calibrated for their "
            "training data (cross-entropy), so odds(p)/odds(pi) is the tag's likelihood ratio; priors are "
            "the product's expected shares (hypothesis_priors); temperature 1 (no sharpening). The "
            "evaluation report's reliability diagram shows how this holds on the data it is run on."
        ),
        "backbone": "musicnn 0.1.0 (MSD_musicnn + MTT_musicnn), Pons & Serra, MTG-UPF, ISC licence",
        "labels": LABELS,
        "display_names": DISPLAY_NAMES,
        "log_lr_clip": 6.0,
        "temperature": 1.0,
        "hypothesis_priors": {"in_taxonomy": 0.75, "outside_unnamed": 0.1, "outside_named": 0.15},
        "genres": GENRES,
        "outside": {
            "named": OUTSIDE_NAMED,
            "flag_at": 0.5,
            "name_min_log_lr": 1.0,
        },
        "tag_priors_method": (
            "From each tagger's checkpoint: the logit at the training population's mean penultimate "
            "activation (batch-norm beta through dense_1), with spread from the batch-norm gamma under an "
            "independence assumption; prior = sigmoid(mean / sqrt(1 + pi * sd^2 / 8)). See worker/heads/logodds.py."
        ),
        "tag_priors": {key: tag_priors(model, tags) for key, (model, tags) in TAGGERS.items()},
    }


def write_default(path: Path = LOGODDS_ARTIFACT_DIR) -> Path:
    """(Re)write the shipped artifact: `python -m worker.heads.logodds`."""
    return write_artifact(path, build_spec()).path


if __name__ == "__main__":
    print(write_default())
