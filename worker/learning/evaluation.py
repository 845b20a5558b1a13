"""Evaluate one or more genre artifacts side by side on a labelled folder of audio.

    DIR/<genre slug>/*.mp3 ...   songs of that genre
    DIR/outside/*.mp3 ...        songs of none of the genres (blues, jazz, reggae ...)

Each file is decoded and run through the backbone once; every artifact's head then scores the same
outputs, reading them as the site does (worker.backbone.sequential: half the patches first, the rest when the
top genre or the outside verdict is in doubt; every patch with early_exit=False), so the figures are
those of what is served. For an artifact, a folder naming a genre it does not know counts as outside its taxonomy.
Metrics per artifact: top-1 and top-2 accuracy over in-genre songs, the share of outside songs it
flags, the share of in-genre songs it wrongly flags, recall per genre, the confusion matrix (true
genre x top-1), a reliability table (top-1 confidence against accuracy, in bins) with its expected
calibration error, the proper scores (mean log loss and Brier score, `proper_scores`), and how many
patches were read (mean, and the share of files settled after the first half). `write_report` saves report.json, report.txt, one confusion-matrix PNG per
artifact and one reliability diagram. No Django here: `manage.py evaluate_genre_model` wraps it.

Per source (`by_source`): DIR/<source>/<genre slug>/... (bench/realset.py's genre-by-source/), the
same figures over all files and for each source apart, so that a large research set cannot hide a
weak score on another. A baseline (`baseline_figures`, a small JSON committed beside the set's
manifest) keeps the figures of the served model; `compare_to_baseline` lists every figure that got
worse by more than one file in a hundred over all files, or by more than one file's worth in a source
(the rule of issue 27 for a cheaper or new model).
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from worker.heads.genre_head import Artifact, head_outside, load_head, outside_margin

if TYPE_CHECKING:
    from worker.backbone.serving import BackboneLike

OUTSIDE = "outside"
RELIABILITY_BINS = 10


class EvaluationDataError(Exception):
    pass


@dataclass(frozen=True)
class Item:
    path: Path
    truth: str  # a folder name: a genre slug, or OUTSIDE
    source: str = ""  # the source folder, when read by source


@dataclass(frozen=True)
class Verdict:
    path: str
    truth: str  # a label of the artifact, or OUTSIDE (also for genres the artifact does not know)
    ranked: list[str]  # the artifact's labels, most likely first
    probs: list[float]  # in `ranked` order
    outside: str | None  # the artifact's outside verdict ("jazz", "none", or None)
    patches_read: int = 0  # of patches_total (worker.backbone.sequential)
    patches_total: int = 0
    source: str = ""


def collect_items(data_dir: Path) -> list[Item]:
    """Every non-hidden file under each sub-folder, labelled with the folder's name (lower case)."""
    if not data_dir.is_dir():
        raise EvaluationDataError(f"{data_dir} is not a folder.")
    items = [
        Item(path, folder.name.lower())
        for folder in sorted(p for p in data_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    ]
    if not items:
        raise EvaluationDataError(
            f"{data_dir} has no audio files in sub-folders (one per genre, plus outside/)."
        )
    return items


def collect_items_by_source(data_dir: Path) -> list[Item]:
    """DIR/<source>/<genre>/...: every source folder read as `collect_items` reads a folder."""
    if not data_dir.is_dir():
        raise EvaluationDataError(f"{data_dir} is not a folder.")
    sources = sorted(p for p in data_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    items = [replace(item, source=folder.name) for folder in sources for item in collect_items(folder)]
    if not items:
        raise EvaluationDataError(f"{data_dir} has no source folders (DIR/<source>/<genre>/...).")
    return items


def artifact_key(artifact: Artifact) -> str:
    return f"{artifact.name} {artifact.version}"


def score_items(
    items: Sequence[Item],
    artifacts: Sequence[Artifact],
    backbone: BackboneLike,
    progress: Callable[[str], None] = lambda _: None,
    *,
    early_exit: bool = True,
) -> tuple[dict[str, list[Verdict]], list[tuple[str, str]]]:
    """Verdicts per artifact, and the files that could not be read (path, reason)."""
    from worker.audio import features
    from worker.audio.decode import AudioError, load_audio
    from worker.backbone import sequential

    heads = [load_head(a) for a in artifacts]
    verdicts: dict[str, list[Verdict]] = {artifact_key(a): [] for a in artifacts}
    skipped: list[tuple[str, str]] = []
    for n, item in enumerate(items, 1):
        try:
            audio = load_audio(item.path)
        except AudioError as exc:
            skipped.append((str(item.path), str(exc)))
            continue
        feats = features.extract(audio.samples, audio.sample_rate)
        # Every patch once; each head then reads from these what the site would have read.
        every = sequential.PatchOutputs(*backbone.patch_outputs(feats.patches))
        for artifact, head in zip(artifacts, heads, strict=True):
            output, probs, read = sequential.read_clip(
                feats.patches,
                every.take,
                head.predict,
                early_exit=early_exit,
                outside=partial(outside_margin, head),
            )
            verdict = make_verdict(
                item, artifact, np.asarray(probs, np.float64), head_outside(head, output, probs)
            )
            verdicts[artifact_key(artifact)].append(
                replace(verdict, patches_read=read, patches_total=len(feats.patches))
            )
        progress(f"{n}/{len(items)} {item.path.name}")
    return verdicts, skipped


def make_verdict(item: Item, artifact: Artifact, probs: np.ndarray, outside: str | None) -> Verdict:
    order = np.argsort(-probs, kind="stable")
    truth = item.truth if item.truth in artifact.labels else OUTSIDE
    return Verdict(
        str(item.path),
        truth,
        [artifact.labels[i] for i in order],
        [round(float(probs[i]), 6) for i in order],
        outside,
        source=item.source,
    )


# --- metrics (pure: testable with hand-made verdicts) -------------------------------------------


def metrics(verdicts: Sequence[Verdict], labels: Sequence[str]) -> dict[str, Any]:
    inside = [v for v in verdicts if v.truth != OUTSIDE]
    outside = [v for v in verdicts if v.truth == OUTSIDE]
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=int)
    for v in inside:
        matrix[index[v.truth], index[v.ranked[0]]] += 1
    per_genre = {
        label: {"recall": _share(matrix[i, i], matrix[i].sum()), "files": int(matrix[i].sum())}
        for i, label in enumerate(labels)
    }
    reliability = reliability_table(inside)
    return {
        "files": len(verdicts),
        "in_genre_files": len(inside),
        "outside_files": len(outside),
        "top1": _share(sum(v.ranked[0] == v.truth for v in inside), len(inside)),
        "top2": _share(sum(v.truth in v.ranked[:2] for v in inside), len(inside)),
        "outside_flagged": _share(sum(v.outside is not None for v in outside), len(outside)),
        "in_genre_flagged": _share(sum(v.outside is not None for v in inside), len(inside)),
        "outside_named": _counts(v.outside for v in outside if v.outside is not None),
        "per_genre": per_genre,
        "confusion_matrix": matrix.tolist(),
        "reliability": reliability,
        "ece": expected_calibration_error(reliability, len(inside)),
        **proper_scores(inside, labels),
        "patches_read_mean": float(np.mean([v.patches_read for v in verdicts])) if verdicts else None,
        "settled_after_half": _share(sum(v.patches_read < v.patches_total for v in verdicts), len(verdicts)),
    }


def metrics_by_source(verdicts: Sequence[Verdict], labels: Sequence[str]) -> dict[str, Any]:
    """`metrics` over all verdicts, plus "per_source": the same for each source's verdicts apart."""
    result = metrics(verdicts, labels)
    sources = sorted({v.source for v in verdicts})
    result["per_source"] = {s: metrics([v for v in verdicts if v.source == s], labels) for s in sources}
    return result


def reliability_table(inside: Sequence[Verdict], bins: int = RELIABILITY_BINS) -> list[dict[str, Any]]:
    """Top-1 confidence against top-1 accuracy, in equal-width bins (empty bins left out)."""
    rows = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        members = [v for v in inside if lo <= v.probs[0] < hi or (b == bins - 1 and v.probs[0] == 1.0)]
        if members:
            rows.append(
                {
                    "low": lo,
                    "high": hi,
                    "files": len(members),
                    "confidence": float(np.mean([v.probs[0] for v in members])),
                    "accuracy": float(np.mean([v.ranked[0] == v.truth for v in members])),
                }
            )
    return rows


def proper_scores(inside: Sequence[Verdict], labels: Sequence[str]) -> dict[str, float | None]:
    """The mean log loss, -ln p(true genre), and the mean Brier score, the squared distance between the
    seven probabilities and the true genre's one-hot vector, over in-genre verdicts (lower is better).
    Unlike the ECE they score each song's probabilities themselves, with no bins, so a small source's
    figures can be read song by song (a probability below 1e-6 counts as 1e-6)."""
    if not inside:
        return {"log_loss": None, "brier": None}
    losses, briers = [], []
    for v in inside:
        probs = dict(zip(v.ranked, v.probs, strict=True))
        losses.append(-float(np.log(max(probs.get(v.truth, 0.0), 1e-6))))
        briers.append(sum((probs.get(label, 0.0) - (label == v.truth)) ** 2 for label in labels))
    return {"log_loss": float(np.mean(losses)), "brier": float(np.mean(briers))}


def expected_calibration_error(rows: Sequence[dict[str, Any]], total: int) -> float | None:
    if not total:
        return None
    return float(sum(r["files"] / total * abs(r["accuracy"] - r["confidence"]) for r in rows))


def _share(count: int | np.integer, total: int | np.integer) -> float | None:
    return float(count) / float(total) if total else None


def _counts(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in values:
        out[value] = out.get(value, 0) + 1
    return out


# --- report ------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def format_table(results: dict[str, dict[str, Any]], labels_of: Mapping[str, Sequence[str]]) -> str:
    """The figures of every artifact side by side, then each artifact's confusion matrix."""
    keys = list(results)
    width = max(24, *(len(k) + 2 for k in keys))
    rows = [("files (in genre / outside)", lambda m: f"{m['in_genre_files']} / {m['outside_files']}")]
    rows += [
        ("top-1", lambda m: _pct(m["top1"])),
        ("top-2", lambda m: _pct(m["top2"])),
        ("outside flagged", lambda m: _pct(m["outside_flagged"])),
        ("in-genre wrongly flagged", lambda m: _pct(m["in_genre_flagged"])),
        ("calibration error (ECE)", lambda m: _pct(m["ece"])),
        (
            "patches read (mean)",
            lambda m: "n/a" if m["patches_read_mean"] is None else f"{m['patches_read_mean']:.1f}",
        ),
        ("settled after half", lambda m: _pct(m["settled_after_half"])),
    ]
    first = results[keys[0]] if keys else {}
    genres = sorted({g for k in keys for g in labels_of[k]}, key=lambda g: [g not in labels_of[keys[0]], g])
    lines = ["".ljust(28) + "".join(k.rjust(width) for k in keys)]
    lines += [name.ljust(28) + "".join(fmt(results[k]).rjust(width) for k in keys) for name, fmt in rows]
    for genre in genres:
        cells = [
            _pct(results[k]["per_genre"][genre]["recall"]) if genre in results[k]["per_genre"] else "n/a"
            for k in keys
        ]
        lines.append(f"recall {genre}".ljust(28) + "".join(c.rjust(width) for c in cells))
    if "per_source" in first:
        lines += ["", format_sources(results)]
    for key in keys:
        labels = list(labels_of[key])
        lines += ["", f"Confusion matrix, {key} (rows: true genre, columns: top-1)"]
        lines.append("".ljust(14) + "".join(label[:9].rjust(10) for label in labels))
        for label, row in zip(labels, results[key]["confusion_matrix"], strict=True):
            lines.append(label[:13].ljust(14) + "".join(str(n).rjust(10) for n in row))
    return "\n".join(lines)


SOURCE_FIGURES = ("top1", "top2", "outside_flagged", "in_genre_flagged", "ece")


def format_sources(results: dict[str, dict[str, Any]]) -> str:
    """One line per artifact and source: files, then the figures of SOURCE_FIGURES."""
    header = ["model", "source", "files (in / out)", "top-1", "top-2", "out flagged", "in flagged", "ECE"]
    sources = {source for m in results.values() for source in m.get("per_source", {})}
    widths = [
        max(26, *(len(k) + 2 for k in results)),
        max([12, *(len(s) + 2 for s in sources)]),
        17,
        9,
        9,
        12,
        11,
        9,
    ]
    lines = ["Per source", "".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    for key, m in results.items():
        for source, f in {"all": m, **m.get("per_source", {})}.items():
            cells = [key, source, f"{f['in_genre_files']} / {f['outside_files']}"]
            cells += [_pct(f[name]) for name in SOURCE_FIGURES]
            lines.append("".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)))
    return "\n".join(lines)


# --- baseline: the served model's figures, and what a new model may not lose ----------------------

# Figures a model may not lower (True) or raise (False) by more than the tolerance.
BASELINE_FIGURES = {
    "top1": True,
    "top2": True,
    "outside_flagged": True,
    "in_genre_flagged": False,
    "ece": False,
}
DEFAULT_TOLERANCE = 0.01  # one file in a hundred
STRICT_FIGURES = ("ece",)  # "no worse": no tolerance
# Below this, a difference is floating-point noise, not a change: the same model's ECE on the same
# files differed by 5e-7 between two runs (the order of float sums across processes).
FLOAT_NOISE = 1e-6


@dataclass(frozen=True)
class Regression:
    model: str
    scope: str  # "all" or a source
    figure: str
    baseline: float
    now: float

    def describe(self) -> str:
        return (
            f"{self.model}, {self.scope}: {self.figure} {_pct(self.now)} against the baseline's "
            f"{_pct(self.baseline)}"
        )


def baseline_figures(
    figures: dict[str, Any], model: str, dataset: str, tolerance: float = DEFAULT_TOLERANCE
) -> dict[str, Any]:
    """The JSON a baseline file holds: one model's figures over all files and per source."""
    scopes = {"all": figures, **figures.get("per_source", {})}
    return {
        "dataset": dataset,
        "model": model,
        "tolerance": tolerance,
        "scopes": {
            scope: {
                "in_genre_files": f["in_genre_files"],
                "outside_files": f["outside_files"],
                **{name: f[name] for name in BASELINE_FIGURES},
            }
            for scope, f in scopes.items()
        },
    }


def compare_to_baseline(
    figures: dict[str, Any], model: str, baseline: dict[str, Any], *, one_file_per_source: bool = True
) -> list[Regression]:
    """Every figure of `figures` (one model's, as `metrics_by_source` gives them) that is worse than
    the baseline's by more than allowed, over all files and in each source the baseline has: the gate
    a new or cheaper genre model passes (issue 27).
    A scope or figure missing on either side (no files of that kind) is not compared.

    Over all files, a figure may worsen by the baseline's tolerance (one file in a hundred), the ECE
    not at all (STRICT_FIGURES). In a source, by one file's worth of that source (1 / the files it
    counts) when that is more: the smallest change a source of n files can show, so that one song of
    an 8-song source (12.5 points) is not read as a loss while two are. one_file_per_source=False
    holds every source to the all-files tolerance (strict; it flags a small source's noise: reading
    every patch instead of half "fails" it in 10 of 13 sources of the real development set)."""
    tolerance = float(baseline.get("tolerance", DEFAULT_TOLERANCE))
    scopes = {"all": figures, **figures.get("per_source", {})}
    found = []
    for scope, base in baseline["scopes"].items():
        now = scopes.get(scope)
        if now is None:
            continue
        for name, higher_is_better in BASELINE_FIGURES.items():
            if base.get(name) is None or now.get(name) is None:
                continue
            change = float(now[name]) - float(base[name])
            allowed = 0.0 if name in STRICT_FIGURES else tolerance
            if one_file_per_source and scope != "all":
                counted = base["outside_files"] if name == "outside_flagged" else base["in_genre_files"]
                allowed = max(allowed, 1.0 / max(int(counted), 1))
            if (-change if higher_is_better else change) > allowed + FLOAT_NOISE:
                found.append(Regression(model, scope, name, float(base[name]), float(now[name])))
    return found


def render_reliability(results: dict[str, dict[str, Any]], path: Path, dataset: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.5, 6), dpi=100)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    for key, m in results.items():
        rows = m["reliability"]
        if rows:
            ece = _pct(m["ece"])
            ax.plot(
                [r["confidence"] for r in rows],
                [r["accuracy"] for r in rows],
                marker="o",
                label=f"{key} (ECE {ece})",
            )
            for r in rows:
                ax.annotate(str(r["files"]), (r["confidence"], r["accuracy"]), fontsize=7, xytext=(3, 3),
                            textcoords="offset points")  # fmt: skip
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="top-1 confidence", ylabel="top-1 accuracy")
    ax.set_title("\n".join(textwrap.wrap(f"Reliability diagram: {dataset}", 60)), fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, format="png")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-")


def write_report(
    out_dir: Path,
    results: dict[str, dict[str, Any]],
    verdicts: dict[str, list[Verdict]],
    artifacts: Sequence[Artifact],
    skipped: Sequence[tuple[str, str]],
    dataset: str,
) -> dict[str, Path]:
    """report.json, report.txt, confusion-<artifact>.png and reliability.png in `out_dir`."""
    from worker.learning.training import render_confusion_matrix

    out_dir.mkdir(parents=True, exist_ok=True)
    labels_of = {artifact_key(a): list(a.labels) for a in artifacts}
    files = {
        "json": out_dir / "report.json",
        "text": out_dir / "report.txt",
        "reliability": out_dir / "reliability.png",
    }
    for artifact in artifacts:
        key = artifact_key(artifact)
        png = out_dir / f"confusion-{_slug(key)}.png"
        render_confusion_matrix(
            results[key]["confusion_matrix"], list(artifact.display_names), png, title=f"{key}: {dataset}"
        )
        files[f"confusion {key}"] = png
    render_reliability(results, files["reliability"], dataset)
    report = {
        "dataset": dataset,
        "artifacts": {artifact_key(a): {**a.info(), "path": str(a.path)} for a in artifacts},
        "results": results,
        "skipped": [list(s) for s in skipped],
        "verdicts": {k: [asdict(v) for v in vs] for k, vs in verdicts.items()},
    }
    files["json"].write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    files["text"].write_text(f"Dataset: {dataset}\n\n{format_table(results, labels_of)}\n", encoding="utf-8")
    return files


def evaluate(
    data_dir: Path,
    artifacts: Sequence[Artifact],
    backbone: BackboneLike,
    progress: Callable[[str], None] = lambda _: None,
    *,
    early_exit: bool = True,
    by_source: bool = False,
) -> tuple[dict[str, dict[str, Any]], dict[str, list[Verdict]], list[tuple[str, str]]]:
    """Score every file of `data_dir` with every artifact: (metrics, verdicts, skipped files).
    by_source: data_dir holds one folder per source (see the module doc), figures also per source."""
    items = collect_items_by_source(data_dir) if by_source else collect_items(data_dir)
    verdicts, skipped = score_items(items, artifacts, backbone, progress, early_exit=early_exit)
    measure = metrics_by_source if by_source else metrics
    results = {artifact_key(a): measure(verdicts[artifact_key(a)], a.labels) for a in artifacts}
    return results, verdicts, skipped
