"""Outside-genre detection and genre prototypes from real recordings, judged on held-out folds (issue 27).

    .venv/bin/python bench/outside.py table [--split source]  # held-out figures beside the log-odds head
    .venv/bin/python bench/outside.py build [--out DIR]  # the artifact fitted on every development clip

Both read the per-patch backbone outputs that `bench/genre_options.py cache --runtimes onnxruntime:fp32`
keeps under var/genre_options/ (run it first; the real development set comes from
bench/realset.py restore). Nothing here runs the model.

Variants (each clip read as the site reads it: half the patches first, the rest when in doubt):

- "log-odds": musicnn-logodds-7 2.0.0 as shipped (nothing fitted: every clip counts as held out);
- "log-odds + detector": the same genre scores, the outside flag from the fitted detector over the tag
  evidence (worker.heads.outside: outside posterior, named outside genres' evidence, tagger
  disagreement);
- "prototypes": the few-shot prototype head (worker.heads.fewshot) over the log-odds head, its
  prototypes the training folds' in-genre clips, the base's outside rule;
- "prototypes + detector": the same, with the detector over the tag evidence and the similarity to
  the nearest prototype;
- "... + outside prototypes": also prototypes of the outside genres (reggae, country, jazz ..., the
  training folds' outside songs by their source label, bench/realset.outside_name); the detector gets
  the similarity to the nearest of them, and a flagged song nearer to one of them than to any of our
  genres is named after it.

Held out: for each fold of the manifest, prototypes and detector are built from the other folds only
and that fold's clips are scored with them (worker.learning.folds.held_out). The detector's training
figures need prototype similarities the training clips did not shape, so within each fit the
similarity of a training clip comes from prototypes built without its own fold (nested folds). The
figures are those of the pooled held-out verdicts, per source too, and `gate` is
worker.learning.evaluation.compare_to_baseline against the log-odds head's (issue 27's gate: one file
in a hundred over all files, one file's worth in a source); the last column holds every source to one
in a hundred too (strict), for reference.
`table --split source` holds out each source whole instead: the model meets that collection of
recordings for the first time, as it meets a user's songs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.genre_options import REALSET, cache_path, pct, read_genre_table, read_rows, rule  # noqa: E402
from bench.realset import outside_name  # noqa: E402
from worker.backbone import sequential  # noqa: E402
from worker.backbone.musicnn import BackboneOutput  # noqa: E402
from worker.heads import fewshot  # noqa: E402
from worker.heads.genre_head import (  # noqa: E402
    Artifact,
    Head,
    LogOddsHead,
    PrototypeHead,
    head_outside,
    load_artifact,
    load_head,
    write_artifact,
)
from worker.heads.logodds import LOGODDS_ARTIFACT_DIR  # noqa: E402
from worker.heads.outside import Detector  # noqa: E402
from worker.learning import evaluation, folds  # noqa: E402

WORK = ROOT / "var" / "outside"
# Where `build` writes by default, to look at; `--out worker/heads/artifacts/prototypes-7` writes the
# shipped default (docs/model.md, "The default genre head since session 8").
BUILD_DIR = WORK / "prototypes-7"
SHIPPED_NAME, SHIPPED_VERSION = "musicnn-prototypes-7", "1.0.0"
TAG_FEATURES = ("outside_logit", "named_max", "disagreement")
ALL_FEATURES = (*TAG_FEATURES, "prototype_max")
RUNTIME = "onnxruntime:fp32"


@dataclass(frozen=True)
class Clip:
    name: str
    genre: str  # a genre slug or "outside"
    source: str
    source_label: str
    fold: str
    outputs: sequential.PatchOutputs
    every: BackboneOutput  # the mean over every patch: what a training example stores
    int8: sequential.PatchOutputs | None = None  # the same patches through onnxruntime:int8, if cached

    @property
    def outside(self) -> bool:
        return self.genre == evaluation.OUTSIDE

    def example(self) -> fewshot.Example:
        """A training example: labelled with our genre, or an outside song with its outside genre."""
        label = outside_name(self.source_label) if self.outside else self.genre
        return fewshot.Example(label, fewshot.backbone_to_dict(self.every))


def load_clips(realset: Path = REALSET) -> list[Clip]:
    clips = []
    for row in read_genre_table(realset):
        name = Path(row["file"]).stem
        outputs, int8 = (_cached(runtime, name) for runtime in (RUNTIME, INT8_RUNTIME))
        assert outputs is not None, name
        clips.append(
            Clip(
                name,
                row["genre"],
                row["source"],
                row["source_label"],
                row["fold"],
                outputs,
                outputs.clip(),
                int8,
            )
        )
    return clips


def _cached(runtime: str, clip: str) -> sequential.PatchOutputs | None:
    """A clip's cached per-patch outputs of that runtime; None for int8 when it was not cached."""
    path = cache_path(runtime, clip)
    if runtime != RUNTIME and not path.exists():
        return None
    data = np.load(path)
    return sequential.PatchOutputs(data["msd"], data["mtt"], data["emb"])


# --- fitting ----------------------------------------------------------------------------------


def build_prototypes(
    out: Path, base: Artifact, clips: Sequence[Clip], with_outside: bool = False, **spec: Any
) -> Artifact:
    """A prototype artifact over `base` from these clips' in-genre examples (and, `with_outside`, their
    outside songs' outside-genre prototypes); extra spec keys added."""
    artifact = fewshot.build_prototype_artifact(
        out,
        base,
        [c.example() for c in clips if not c.outside],
        name=SHIPPED_NAME,
        version=SHIPPED_VERSION,
        outside_examples=[c.example() for c in clips if c.outside and with_outside],
    )
    if spec:
        artifact = write_artifact(out, {**artifact.spec, **spec})
    return artifact


def figures(head: LogOddsHead | PrototypeHead, output: BackboneOutput) -> dict[str, float]:
    """The detector's evidence figures for one clip output."""
    if isinstance(head, PrototypeHead):
        assert isinstance(head.base, LogOddsHead)
        return head.base.outside_figures(output) | head.prototype_figures(output)
    return head.outside_figures(output)


def training_figures(
    clips: Sequence[Clip], base: Artifact, work: Path, with_prototypes: bool, with_outside: bool = False
) -> list[dict[str, float]]:
    """Each clip's evidence figures, the prototype similarity from prototypes built without its fold."""
    base_head = load_head(base)
    assert isinstance(base_head, LogOddsHead)
    if not with_prototypes:
        return [figures(base_head, c.every) for c in clips]

    return folds.held_out(
        [c.fold for c in clips],
        lambda train: inner_prototypes(work, base, clips, train, with_outside),
        lambda head, i: figures(head, clips[i].every),
    )


def inner_prototypes(
    work: Path,
    base: Artifact,
    clips: Sequence[Clip],
    train: list[int],
    with_outside: bool = False,
    group: str = "fold",
) -> PrototypeHead:
    """The prototype head of clips[train] alone, for the clips of the groups (folds, or sources) it
    leaves out (nested within a fit), written under `work` in a folder named after those groups."""
    held = sorted({getattr(c, group) for c in clips} - {getattr(clips[i], group) for i in train})
    artifact = build_prototypes(
        work / f"inner-{'-'.join(held)}", base, [clips[i] for i in train], with_outside
    )
    head = load_head(artifact)
    assert isinstance(head, PrototypeHead)
    return head


def fit_variant(variant: str, clips: Sequence[Clip], base: Artifact, out: Path) -> Artifact:
    """One variant's artifact, fitted on these clips only, written to `out` (how it is read is no
    part of the fit)."""
    variant = re.sub(READING_SUFFIX, "", variant)
    fitted = TEMPERATURE_SUFFIX.search(variant)
    if fitted:  # the variant without it, then its temperature fitted on held-out clips or sources
        artifact = fit_variant(variant.replace(fitted.group(0), ""), clips, base, out)
        group = "source" if fitted.group(1) == "sources" else "fold"
        temperature = fitted_temperature(clips, base, out, group)
        return write_artifact(out, {**artifact.spec, "temperature": temperature})
    if variant == "log-odds":
        return base
    if variant == "log-odds + detector":
        detector = fit_detector(training_figures(clips, base, out, False), clips, TAG_FEATURES)
        spec = json.loads(json.dumps(base.spec))
        spec["outside"]["detector"] = detector.to_spec()
        return write_artifact(out, spec)
    if variant == "prototypes":
        return build_prototypes(out, base, clips)
    cap = IN_GENRE_CAP if variant.endswith(CAPPED) else None
    if variant.endswith((MATCHED, MATCHED_NESTED)):
        head = load_head(base)
        inside = [c for c in clips if not c.outside]
        cap = sum(
            head_outside(head, c.every, head.predict(c.every, NO_PATCHES)) is not None for c in inside
        ) / len(inside)
    with_outside = OUTSIDE_PROTOTYPES in variant
    features = (*ALL_FEATURES, "outside_prototype_max") if with_outside else ALL_FEATURES
    rows = training_figures(clips, base, out, True, with_outside)
    detector = fit_detector(rows, clips, features, cap, nested_threshold=NESTED in variant)
    return build_prototypes(out, base, clips, with_outside, outside_detector=detector.to_spec())


def fitted_temperature(clips: Sequence[Clip], base: Artifact, work: Path, group: str = "fold") -> float:
    """The prototype head's temperature, fitted on the in-genre clips' held-out probabilities: each
    clip's prototype evidence comes from prototypes built without its fold, or with group="source"
    without its whole source, as a song from a collection never seen (folds.fit_temperature)."""
    inside = [c for c in clips if not c.outside]
    labels = list(base.labels)

    def evidence(head: PrototypeHead, i: int) -> tuple[np.ndarray, np.ndarray]:
        output = inside[i].every
        base_probs = np.clip(np.asarray(head.base.predict(output, NO_PATCHES), np.float64), 1e-9, 1.0)
        return np.log(base_probs), head.evidence(output)

    rows = folds.held_out(
        [getattr(c, group) for c in inside],
        lambda train: inner_prototypes(work, base, inside, train, group=group),
        evidence,
    )
    return folds.fit_temperature(
        np.array([r[0] for r in rows]),
        np.array([r[1] for r in rows]),
        [labels.index(c.genre) for c in inside],
    )


def fit_detector(
    rows: Sequence[dict[str, float]],
    clips: Sequence[Clip],
    features: Sequence[str],
    cap: float | None = None,
    nested_threshold: bool = False,
) -> Detector:
    return folds.fit_detector(
        rows,
        [c.outside for c in clips],
        features,
        max_in_genre_flagged=cap,
        threshold_folds=[c.fold for c in clips] if nested_threshold else None,
    )


IN_GENRE_CAP = 0.08  # issue 27's target for in-genre songs wrongly flagged
CAPPED = f"(threshold: at most {100 * IN_GENRE_CAP:.0f} % of in-genre training songs flagged)"
MATCHED = "(threshold: no more in-genre training songs flagged than the log-odds head flags)"
OUTSIDE_PROTOTYPES = "+ outside prototypes"
NESTED = "on held-out training probabilities"
MATCHED_NESTED = MATCHED.replace(")", f", {NESTED})")
NO_PATCHES = np.zeros((0, 187, 96), np.float32)
TEMPERATURE_FITTED = "temperature fitted on held-out training clips"
FITTED_T = f"prototypes ({TEMPERATURE_FITTED})"
FITTED_T_SOURCES = "prototypes (temperature fitted on held-out training sources)"
TEMPERATURE_SUFFIX = re.compile(r" \(temperature fitted on held-out training (clips|sources)\)")
# A reading, not a fit: the rest of the patches are also read while the outside verdict is in doubt
# (worker.backbone.sequential); without it, only while the top genre is.
GUARDED = ", outside verdict guarded"
# Also readings: the int8 runtime's outputs (prototypes still fitted on fp32's, as shipped), and a fixed
# number of patches instead of half first.
INT8, INT8_RUNTIME = ", int8 runtime", "onnxruntime:int8"
READING_SUFFIX = rf"{re.escape(GUARDED)}|{re.escape(INT8)}|, \d+ patches"
DETECTOR_CANDIDATE = f"prototypes + detector {OUTSIDE_PROTOTYPES} {MATCHED_NESTED}"
VARIANTS = (
    "log-odds",
    f"log-odds{GUARDED}",
    "log-odds + detector",
    "prototypes",
    FITTED_T,
    f"{FITTED_T}{GUARDED}",
    f"{FITTED_T_SOURCES}{GUARDED}",
    f"{FITTED_T}{INT8}{GUARDED}",
    f"{FITTED_T}, 3 patches",
    f"{FITTED_T}{INT8}, 3 patches",
    f"{FITTED_T}{INT8}, 4 patches",
    "prototypes + detector",
    f"prototypes + detector {CAPPED}",
    f"prototypes + detector {MATCHED}",
    f"prototypes + detector {OUTSIDE_PROTOTYPES}",
    f"prototypes + detector {OUTSIDE_PROTOTYPES} {MATCHED}",
    DETECTOR_CANDIDATE,
    f"{DETECTOR_CANDIDATE}{GUARDED}",
    f"{DETECTOR_CANDIDATE} ({TEMPERATURE_FITTED}){GUARDED}",
)


# --- scoring ----------------------------------------------------------------------------------


def reading(variant: str) -> tuple[str, bool]:
    """How a variant's clips are read: a bench.genre_options patches code ("seqg": half first, the rest
    while the top genre is in doubt; "seq": or the outside verdict, GUARDED; "N": N fixed patches) and
    whether the int8 runtime's outputs are read (INT8). Neither is part of the fit."""
    fixed = re.search(r", (\d+) patches", variant)
    patches = fixed.group(1) if fixed else "seq" if GUARDED in variant else "seqg"
    return patches, INT8 in variant


def verdict(
    artifact: Artifact, head: Head, clip: Clip, how: tuple[str, bool] = ("seqg", False)
) -> evaluation.Verdict:
    """A clip's verdict read as `how` says (see `reading`; by default as the site read before session 8:
    half first, the rest while the top genre is in doubt)."""
    patches, int8 = how
    outputs = clip.int8 if int8 else clip.outputs
    if outputs is None:
        raise FileNotFoundError(f"no {INT8_RUNTIME} outputs cached for {clip.name}")
    output, probs, read = read_rows(outputs, patches, head)
    item = evaluation.Item(Path(f"{clip.name}.wav"), clip.genre, clip.source)
    made = evaluation.make_verdict(
        item, artifact, np.asarray(probs, np.float64), head_outside(head, output, probs)
    )
    return evaluation.Verdict(
        **{**made.__dict__, "patches_read": read, "patches_total": len(clip.outputs.msd)}
    )


def held_out_verdicts(
    variant: str, clips: Sequence[Clip], base: Artifact, split: str = "fold"
) -> list[evaluation.Verdict]:
    """Each clip's verdict from the variant fitted without its `split` group: its manifest fold, or,
    with split="source", its whole source (as a new collection of recordings would meet the model)."""
    groups = [getattr(c, split) for c in clips]

    def fit(train: list[int]) -> tuple[Artifact, Head]:
        held = sorted(set(groups) - {groups[i] for i in train})
        out = WORK / split / str(VARIANTS.index(variant)) / "-".join(held)
        shutil.rmtree(out, ignore_errors=True)
        artifact = fit_variant(variant, [clips[i] for i in train], base, out)
        return artifact, load_head(artifact)

    how = reading(variant)
    return folds.held_out(groups, fit, lambda model, i: verdict(*model, clips[i], how=how))


def table(clips: Sequence[Clip], split: str = "fold") -> str:
    base = load_artifact(LOGODDS_ARTIFACT_DIR)
    results = {
        v: evaluation.metrics_by_source(held_out_verdicts(v, clips, base, split), base.labels)
        for v in VARIANTS
    }
    baseline = evaluation.baseline_figures(results["log-odds"], "log-odds", "realset")
    lines = [
        "| variant (held-out folds) | top-1 | top-2 | outside flagged | in-genre flagged | ECE | log loss | Brier "
        "| patches read | gate | strict per source (one in a hundred) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, m in results.items():
        lines.append(
            f"| {name} | {pct(m['top1'])} | {pct(m['top2'])} | {pct(m['outside_flagged'])} "
            f"| {pct(m['in_genre_flagged'])} | {pct(m['ece'])} | {m['log_loss']:.3f} | {m['brier']:.3f} "
            f"| {m['patches_read_mean']:.2f} | {rule(m, baseline)} "
            f"| {rule(m, baseline, one_file_per_source=False)} |"
        )
    lines += [
        "",
        "| variant | source | in / out | top-1 | outside flagged | in-genre flagged | ECE | log loss | Brier |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, m in results.items():
        for source, f in m["per_source"].items():
            lines.append(
                f"| {name} | {source} | {f['in_genre_files']} / {f['outside_files']} | {pct(f['top1'])} "
                f"| {pct(f['outside_flagged'])} | {pct(f['in_genre_flagged'])} | {pct(f['ece'])} "
                f"| {score(f['log_loss'])} | {score(f['brier'])} |"
            )
    for name, m in results.items():
        lines += [
            "",
            f"{name}: outside named {m['outside_named']}; confusion (rows true, columns top-1, "
            f"{', '.join(base.labels)}): {m['confusion_matrix']}",
        ]
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / f"heldout-{split}.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return "\n".join(lines)


# The variant `build` writes, the shipped default since session 8 (docs/model.md): it beats the
# log-odds head over all files on held-out folds and with each source held out whole. The site reads
# it guarded (GUARDED is how it is read, not part of the artifact).
CANDIDATE = FITTED_T


def score(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def build(clips: Sequence[Clip], out: Path = BUILD_DIR, variant: str = CANDIDATE) -> Artifact:
    """A variant's artifact (the CANDIDATE by default) from every development clip; `base` relative, so
    the folder moves with the repository."""
    base = load_artifact(LOGODDS_ARTIFACT_DIR)
    work = WORK / "build"
    shutil.rmtree(work, ignore_errors=True)
    artifact = fit_variant(variant, clips, base, work)
    out.mkdir(parents=True, exist_ok=True)
    spec = {**artifact.spec, "base": os.path.relpath(base.path, out.resolve())}
    spec["description"] += (
        " Prototypes are vectors derived from the recordings of bench/realset (research sets such as GTZAN "
        "and GiantSteps, and commercial songs found in public repositories); no audio is shipped. "
        f"Variant: {variant}, fitted by bench/outside.py; held-out figures in docs/model.md."
    )
    spec["examples"] = {label: p["count"] for label, p in spec["prototypes"].items()}
    return write_artifact(out, spec)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["table", "build"])
    parser.add_argument("--realset", type=Path, default=REALSET)
    parser.add_argument("--out", type=Path, default=BUILD_DIR, help="build: the artifact's folder")
    parser.add_argument(
        "--split",
        choices=["fold", "source"],
        default="fold",
        help="table: hold out each manifest fold (default), or each source whole",
    )
    args = parser.parse_args(argv)
    try:
        clips = load_clips(args.realset)
    except FileNotFoundError as exc:
        print(f"{exc}: run bench/realset.py restore and bench/genre_options.py cache first", file=sys.stderr)
        return 2
    if args.command == "table":
        print(table(clips, args.split))
    else:
        print(build(clips, args.out).path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
