"""Less arithmetic per clip, judged on real recordings (issue 27): the options side by side.

    .venv/bin/python bench/genre_options.py cache [--runtimes onnxruntime:fp32,onnxruntime:int8]
    .venv/bin/python bench/genre_options.py table [--out docs-table.md]

`cache` runs every patch of every clip of the real development set (var/realset/genre.tsv, restored by
bench/realset.py) through each runtime once, in one model thread, and keeps the per-patch outputs and
the model's CPU time under var/genre_options/<runtime>/<clip>.npz; a clip already there is skipped.
`table` then reads each configuration from those outputs, as the site would have read it, without
running the model again:

- runtime: onnxruntime:fp32 (today) or onnxruntime:int8 (the four timbral convolutions in int8);
- taggers: both (today's head, musicnn-logodds-7) or one alone, with the head restricted to that
  tagger's tags (`worker.heads.logodds.build_spec(taggers=...)`, the same construction);
- patches: "seqg" (the baseline: half first, the rest when the top genre is in doubt), "seq" (half
  first, the rest when the top genre or the outside verdict is in doubt: the site's reading since
  session 8), "seqN"/"seqgN" (N first), "all" (every patch), or a fixed number spread over the excerpt.

For each it reports top-1 over the seven genres, top-2, outside flagged, in-genre wrongly flagged,
the calibration error (ECE), the drift of the seven genre probabilities against today's (mean
|delta p|, top-1 agreement), the arithmetic per clip against today's, and the model CPU per clip
(the cached CPU per patch of the runtime, times the patches read, times the share of the taggers run)
against today's fp32 floor (bench/machine.py: both taggers on 5 patches at the GEMM probe's peak).
Nothing is fitted here: the one-tagger heads are built from the checkpoints as the shipped head was,
so every clip counts (no held-out folds are needed).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from worker.backbone import sequential  # noqa: E402
from worker.backbone.musicnn import BackboneOutput  # noqa: E402
from worker.heads.genre_head import (  # noqa: E402
    Artifact,
    Head,
    head_outside,
    load_artifact,
    load_head,
    outside_margin,
)
from worker.heads.logodds import LOGODDS_ARTIFACT_DIR  # noqa: E402
from worker.learning import evaluation  # noqa: E402

REALSET = ROOT / "var" / "realset"
CACHE = ROOT / "var" / "genre_options"
RUNTIMES = ("onnxruntime:fp32", "onnxruntime:int8")
TODAY = ("onnxruntime:fp32", "both", "seqg")  # the stored baseline's reading


def cache_path(runtime: str, clip: str) -> Path:
    return CACHE / runtime.replace(":", "-") / f"{clip}.npz"


def read_genre_table(realset: Path = REALSET) -> list[dict[str, str]]:
    with (realset / "genre.tsv").open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def cache(runtimes: Sequence[str], realset: Path = REALSET) -> None:
    """Every patch of every clip through each runtime, one model thread, outputs and CPU time kept."""
    import os

    os.environ.setdefault("SEVENFOUR_MODEL_THREADS", "1")
    from worker.audio import features
    from worker.audio.decode import load_audio
    from worker.backbone.serving import make_backbone

    backbones = {runtime: make_backbone(runtime) for runtime in runtimes}
    rows = read_genre_table(realset)
    for n, row in enumerate(rows, 1):
        clip = Path(row["file"]).stem
        todo = [r for r in runtimes if not cache_path(r, clip).exists()]
        if not todo:
            continue
        audio = load_audio(realset / row["file"])
        patches = features.extract(audio.samples, audio.sample_rate).patches
        for runtime in todo:
            backbone = backbones[runtime]
            start = time.process_time()
            msd, mtt, emb = backbone.patch_outputs(patches)
            cpu = time.process_time() - start
            path = cache_path(runtime, clip)
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(path, msd=msd, mtt=mtt, emb=emb, cpu_s=cpu)
        print(f"{n}/{len(rows)} {clip} ({len(patches)} patches)", file=sys.stderr)


# --- configurations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    runtime: str
    taggers: str  # "both", "msd" or "mtt"
    patches: str  # "seq"/"seqg" (half first), "seqN"/"seqgN" (N first), "all", or N patches spread

    @property
    def name(self) -> str:
        precision = self.runtime.split(":")[1]
        taggers = "MSD+MTT" if self.taggers == "both" else self.taggers.upper()
        if self.patches.startswith("seq"):
            first, genre_only = sequential_code(self.patches)
            doubt = "top genre" if genre_only else "genre or outside"
            reading = f"{first or 'half'} first, rest if {doubt} in doubt"
        else:
            reading = "every patch" if self.patches == "all" else f"{self.patches} patches"
        today = " (today)" if (self.runtime, self.taggers, self.patches) == TODAY else ""
        return f"{precision}, {taggers}, {reading}{today}"


OPTIONS = [
    Option("onnxruntime:fp32", "both", "seqg"),
    Option("onnxruntime:fp32", "both", "seq"),
    Option("onnxruntime:fp32", "both", "all"),
    Option("onnxruntime:int8", "both", "seqg"),
    Option("onnxruntime:int8", "both", "seq"),
    Option("onnxruntime:fp32", "msd", "seq"),
    Option("onnxruntime:fp32", "mtt", "seq"),
    Option("onnxruntime:fp32", "both", "3"),
    Option("onnxruntime:fp32", "both", "2"),
    Option("onnxruntime:fp32", "msd", "5"),
    Option("onnxruntime:fp32", "mtt", "5"),
    Option("onnxruntime:int8", "both", "3"),
    Option("onnxruntime:fp32", "msd", "3"),
    Option("onnxruntime:int8", "msd", "seq"),
    Option("onnxruntime:fp32", "both", "seqg3"),
    Option("onnxruntime:int8", "both", "seqg3"),
    Option("onnxruntime:int8", "both", "seq3"),
    Option("onnxruntime:int8", "both", "2"),
    Option("onnxruntime:int8", "both", "4"),
    Option("onnxruntime:fp32", "both", "4"),
]


def one_tagger_artifact(tagger: str) -> Artifact:
    """The log-odds head restricted to one tagger's tags, written under var/ (not shipped)."""
    from worker.heads.genre_head import write_artifact
    from worker.heads.logodds import build_spec

    return write_artifact(CACHE / "artifacts" / f"logodds-7-{tagger}", build_spec(taggers=(tagger,)))


def sequential_code(patches: str) -> tuple[int | None, bool]:
    """A "seq..." reading's patches read first (None: half) and whether only the top genre is guarded."""
    rest = patches.removeprefix("seq")
    genre_only = rest.startswith("g")
    rest = rest.removeprefix("g")
    return (int(rest) if rest else None), genre_only


def read_rows(
    outputs: sequential.PatchOutputs, patches: str, head: Head
) -> tuple[BackboneOutput, np.ndarray, int]:
    """(the clip's backbone output, genre probabilities, patches read) for one reading policy."""
    n = len(outputs.msd)
    dummy = np.zeros((n, 1, 1), np.float32)  # the log-odds head does not read the mel patches
    if patches == "all":
        return sequential.read_clip(dummy, outputs.take, head.predict, early_exit=False)
    if patches.startswith("seq"):
        first, genre_only = sequential_code(patches)
        outside = None if genre_only else partial(outside_margin, head)
        return sequential.read_clip(dummy, outputs.take, head.predict, first=first, outside=outside)
    return sequential.read_fixed(dummy, outputs.take, head.predict, int(patches))


@dataclass(frozen=True)
class Scored:
    """One option's figures on the set, and what the comparison with today's needs."""

    metrics: dict[str, Any]  # evaluation.metrics_by_source
    probs: dict[str, np.ndarray]  # per clip: the seven genre probabilities
    right: dict[str, bool]  # per in-genre clip: top-1 right
    patches_mean: float
    tagger_share: float  # 1 for both taggers, 0.5 for one
    cpu_ms_per_patch: float  # both taggers, the cache run's median

    @property
    def work(self) -> float:
        return self.patches_mean * self.tagger_share


def score_option(option: Option, rows: Sequence[dict[str, str]], artifact: Artifact) -> Scored:
    head = load_head(artifact)
    verdicts: list[evaluation.Verdict] = []
    cpu_per_patch: list[float] = []
    probs_by_clip: dict[str, np.ndarray] = {}
    read_total = 0
    for row in rows:
        clip = Path(row["file"]).stem
        data = np.load(cache_path(option.runtime, clip))
        outputs = sequential.PatchOutputs(data["msd"], data["mtt"], data["emb"])
        cpu_per_patch.append(float(data["cpu_s"]) / len(outputs.msd))
        output, probs, read = read_rows(outputs, option.patches, head)
        read_total += read
        item = evaluation.Item(Path(row["file"]), row["genre"], row["source"])
        verdict = evaluation.make_verdict(item, artifact, probs, head_outside(head, output, probs))
        verdicts.append(verdict)
        probs_by_clip[clip] = probs
    share = 1.0 if option.taggers == "both" else 0.5
    return Scored(
        metrics=evaluation.metrics_by_source(verdicts, artifact.labels),
        probs=probs_by_clip,
        right={Path(v.path).stem: v.ranked[0] == v.truth for v in verdicts if v.truth != evaluation.OUTSIDE},
        patches_mean=read_total / len(rows),
        tagger_share=share,
        cpu_ms_per_patch=1000 * float(np.median(cpu_per_patch)),
    )


def table(rows: Sequence[dict[str, str]], options: Sequence[Option] = OPTIONS) -> str:
    from bench import machine

    artifacts = {
        "both": load_artifact(LOGODDS_ARTIFACT_DIR),
        **{t: one_tagger_artifact(t) for t in ("msd", "mtt")},
    }
    results = {option: score_option(option, rows, artifacts[option.taggers]) for option in options}
    today = results[Option(*TODAY)]
    gflops = machine.gemm_gflops()
    macs = machine.backbone_macs()
    floor_today = machine.floor_ms(5 * macs, gflops)  # today's fp32 floor: both taggers, 5 patches
    fp32_patch_ms = results[Option("onnxruntime:fp32", "both", "all")].cpu_ms_per_patch
    lines = [
        f"GEMM probe {gflops:.1f} GFLOP/s per core; backbone {macs / 1e6:.0f} MMACs per patch (both taggers); "
        f"today's fp32 floor (5 patches, both taggers) {floor_today:.0f} ms CPU per clip; fp32 model CPU per "
        f"patch (both taggers, one thread, median of the cache run) {fp32_patch_ms:.1f} ms",
        "",
        "| option | top-1 | top-1 won / lost | top-2 | outside flagged | in-genre flagged | ECE | mean abs dp "
        "| top-1 agrees | patches read | arithmetic vs today | model CPU ms/clip | vs today's floor | gate | strict per source (one in a hundred) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    baseline = evaluation.baseline_figures(today.metrics, "today", "realset")
    for option, r in results.items():
        m = r.metrics
        drift = [np.abs(r.probs[c] - today.probs[c]).mean() for c in today.probs]
        agree = np.mean([np.argmax(r.probs[c]) == np.argmax(today.probs[c]) for c in today.probs])
        won = sum(r.right[c] and not today.right[c] for c in today.right)
        lost = sum(today.right[c] and not r.right[c] for c in today.right)
        cpu = r.cpu_ms_per_patch * r.work
        lines.append(
            f"| {option.name} | {pct(m['top1'])} | {won} / {lost} | {pct(m['top2'])} | {pct(m['outside_flagged'])} "
            f"| {pct(m['in_genre_flagged'])} | {pct(m['ece'])} | {float(np.mean(drift)):.3f} | {100 * agree:.1f} % "
            f"| {r.patches_mean:.2f} | {r.work / today.work:.2f} | {cpu:.0f} | {cpu / floor_today:.2f} "
            f"| {rule(m, baseline)} | {rule(m, baseline, one_file_per_source=False)} |"
        )
    counts = today.metrics
    lines.append("")
    lines.append(f"{counts['in_genre_files']} in-genre clips, {counts['outside_files']} outside")
    return "\n".join(lines)


def rule(figures: dict[str, Any], baseline: dict[str, Any], one_file_per_source: bool = True) -> str:
    """ "meets" or the figures that break the rule (evaluation.compare_to_baseline, per source too)."""
    lost = evaluation.compare_to_baseline(
        figures, "option", baseline, one_file_per_source=one_file_per_source
    )
    names = {
        "top1": "top-1",
        "top2": "top-2",
        "outside_flagged": "out",
        "in_genre_flagged": "in-flag",
        "ece": "ECE",
    }
    return "meets" if not lost else "; ".join(f"{names[r.figure]} {r.scope}" for r in lost)


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["cache", "table"])
    parser.add_argument("--runtimes", default=",".join(RUNTIMES))
    parser.add_argument("--realset", type=Path, default=REALSET)
    args = parser.parse_args(argv)
    if not (args.realset / "genre.tsv").exists():
        print(f"{args.realset}/genre.tsv is missing: run bench/realset.py restore first", file=sys.stderr)
        return 2
    if args.command == "cache":
        cache(args.runtimes.split(","), args.realset)
        return 0
    print(table(read_genre_table(args.realset)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
