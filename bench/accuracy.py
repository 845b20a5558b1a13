"""Tempo and key accuracy of the project's estimator beside plain librosa baselines, on any annotated folder.

    .venv/bin/python bench/accuracy.py var/corpus/annotations.tsv [--group-by genre] [--limit N]
                                       [--per-clip results.tsv]

The annotations file is a TSV (format in docs/accuracy.md): file (relative to the TSV's folder),
tempo in BPM, key such as "A minor" ("X" or empty when there is none), and an optional genre/style;
a header line naming the columns is optional, further named columns can be used with --group-by.

Metrics, all from mir_eval 0.8.2:
- Acc1: estimate within 4 % of the annotated tempo. mir_eval has no Acc1/Acc2 function; its
  tempo.detection(reference pair, weight, estimates, tol) counts a hit when |est - ref| <= tol * ref,
  so Acc1 is detection([T, T], 0.5, [E, E], tol=0.04).one_correct.
- Acc2: the same test against T and each of 2T, T/2, 3T, T/3 (octave and triple errors forgiven).
- key exact: mir_eval.key.weighted_score == 1; MIREX: the mean of mir_eval.key.weighted_score
  (1 same key, 0.5 a fifth above, 0.3 relative, 0.2 parallel, 0 otherwise); key +alts: the key is
  exact or among the alternatives the page offers (worker.analysis.Key.alternatives; librosa offers
  none).
- BPM error: on the clips an estimator gets right (Acc1), |estimate - annotation| in BPM, median and
  90th percentile: how far the decimals are off (a loop stretched by 0.3 BPM in 126 drifts about
  70 ms over 30 s).

Estimators, on the same clips in the same run:
- project: worker.audio.decode.load_audio (the worker's own 16 kHz excerpt) then worker.analysis
  estimate_tempo and estimate_key; its time per clip (tempo + key, decode excluded) is printed.
  Tempo is BeatNet's learned estimate fused with the onset estimator (worker.music.tempo_choice).
- onset (before): the tempo the worker served before the learned front end, worker.music.tempo's
  onset estimator, on the same excerpt; key as project, so its time is tempo + key too.
- beatnet: tempo from BeatNet's learned activations alone (worker.music.beats: checkpoint 1 in numpy,
  comb over the activation's autocorrelation under a log-normal prior); key as project.
- librosa: tempo from librosa.beat.beat_track with default arguments on librosa.load (22.05 kHz);
  key from the mean of librosa.feature.chroma_stft correlated with the Krumhansl-Kessler profiles
  (the Krumhansl-Schmuckler algorithm).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from worker.music.key import MAJOR_PROFILE as KK_MAJOR  # noqa: E402  (the baseline's profiles are the same ratings)
from worker.music.key import MINOR_PROFILE as KK_MINOR  # noqa: E402
from worker.music.key import key_name  # noqa: E402

ACC_TOLERANCE = 0.04
ACC2_FACTORS = (2.0, 0.5, 3.0, 1.0 / 3.0)
NO_KEY = "X"  # mir_eval's spelling of "no key"


class AnnotationError(ValueError):
    pass


@dataclass(frozen=True)
class Annotation:
    file: Path
    tempo: float | None
    key: str  # "X" when unannotated
    columns: dict[str, str] = field(default_factory=dict)  # every named column, for --group-by


@dataclass(frozen=True)
class Estimate:
    tempo: float | None
    key: str | None
    tempo_confidence: float | None = None
    key_confidence: float | None = None
    seconds: float | None = None  # time spent estimating, decode excluded
    key_alternatives: tuple[str, ...] = ()  # the other keys offered, most likely first


Estimator = Callable[[Path], Estimate]


def read_annotations(path: Path) -> list[Annotation]:
    """Rows of file, tempo, key[, genre, ...]; a first row starting with "file" is a header."""
    rows = [
        row for row in csv.reader(path.read_text().splitlines(), delimiter="\t") if row and row[0].strip()
    ]
    if not rows:
        raise AnnotationError(f"{path}: no annotations")
    header = ["file", "tempo", "key", "genre"]
    if rows[0][0].strip().lower() == "file":
        header, rows = [c.strip().lower() for c in rows[0]], rows[1:]
    out = []
    for number, row in enumerate(rows, start=1):
        if len(row) < 3:
            raise AnnotationError(f"{path}: row {number} has {len(row)} columns; expected file, tempo, key")
        columns = {name: value.strip() for name, value in zip(header, row, strict=False)}
        out.append(
            Annotation(
                file=path.parent / columns["file"],
                tempo=_tempo(columns["tempo"], path, number),
                key=_key(columns["key"], path, number),
                columns=columns,
            )
        )
    return out


def _tempo(text: str, path: Path, number: int) -> float | None:
    if text in ("", "X", "-"):
        return None
    try:
        value = float(text)
    except ValueError as exc:
        raise AnnotationError(f"{path}: row {number}: tempo {text!r} is not a number") from exc
    if value <= 0:
        raise AnnotationError(f"{path}: row {number}: tempo must be positive")
    return value


def _key(text: str, path: Path, number: int) -> str:
    import mir_eval

    key = text or NO_KEY
    try:
        mir_eval.key.validate_key(key)
    except ValueError as exc:
        raise AnnotationError(f"{path}: row {number}: {exc}") from exc
    return key


def tempo_hits(reference: float, estimate: float | None) -> tuple[bool, bool]:
    """(Acc1, Acc2) for one clip, through mir_eval.tempo.detection at 4 % tolerance."""
    import mir_eval

    if estimate is None or not estimate > 0:
        return False, False

    def hit(other: float) -> bool:
        refs, est = np.array([reference, other]), np.array([estimate, estimate])
        return mir_eval.tempo.detection(refs, 0.5, est, tol=ACC_TOLERANCE)[1]

    acc1 = hit(reference)
    return acc1, acc1 or any(hit(reference * f) for f in ACC2_FACTORS)


def key_score(reference: str, estimate: str | None) -> float:
    import mir_eval

    return float(mir_eval.key.weighted_score(reference, estimate or NO_KEY))


@dataclass
class Tally:
    """Sums for one estimator on one group of clips."""

    tempo_n: int = 0
    acc1: int = 0
    acc2: int = 0
    key_n: int = 0
    exact: int = 0
    mirex: float = 0.0
    offered: int = 0  # exact, or among the offered alternatives
    bpm_errors: list[float] = field(default_factory=list)  # |est - ref| in BPM, on Acc1 hits
    tempo_conf: dict[bool, list[float]] = field(default_factory=lambda: {True: [], False: []})
    key_conf: dict[bool, list[float]] = field(default_factory=lambda: {True: [], False: []})
    seconds: list[float] = field(default_factory=list)

    def add(self, annotation: Annotation, estimate: Estimate) -> None:
        if annotation.tempo is not None:
            acc1, acc2 = tempo_hits(annotation.tempo, estimate.tempo)
            self.tempo_n += 1
            self.acc1 += acc1
            self.acc2 += acc2
            if acc1 and estimate.tempo is not None:
                self.bpm_errors.append(abs(estimate.tempo - annotation.tempo))
            if estimate.tempo_confidence is not None:
                self.tempo_conf[acc1].append(estimate.tempo_confidence)
        if annotation.key != NO_KEY:
            score = key_score(annotation.key, estimate.key)
            self.key_n += 1
            self.exact += score == 1.0
            self.mirex += score
            self.offered += score == 1.0 or any(
                key_score(annotation.key, k) == 1.0 for k in estimate.key_alternatives
            )
            if estimate.key_confidence is not None:
                self.key_conf[score == 1.0].append(estimate.key_confidence)
        if estimate.seconds is not None:
            self.seconds.append(estimate.seconds)

    def figures(self) -> dict[str, float]:
        nan = float("nan")
        return {
            "acc1": self.acc1 / self.tempo_n if self.tempo_n else nan,
            "acc2": self.acc2 / self.tempo_n if self.tempo_n else nan,
            "exact": self.exact / self.key_n if self.key_n else nan,
            "mirex": self.mirex / self.key_n if self.key_n else nan,
            "offered": self.offered / self.key_n if self.key_n else nan,
        }


def evaluate(
    annotations: Sequence[Annotation],
    estimators: dict[str, Estimator],
    group_by: str | None = "genre",
    per_clip: list[dict[str, str]] | None = None,
) -> dict[str, dict[str, Tally]]:
    """Tallies per group ("all" plus each value of the group column) and estimator."""
    tallies: dict[str, dict[str, Tally]] = {}
    for annotation in annotations:
        groups = ["all"]
        if group_by and annotation.columns.get(group_by):
            groups.append(annotation.columns[group_by])
        row = {"file": str(annotation.file.name), "tempo": f"{annotation.tempo}", "key": annotation.key}
        for name, estimator in estimators.items():
            estimate = estimator(annotation.file)
            for group in groups:
                tallies.setdefault(group, {}).setdefault(name, Tally()).add(annotation, estimate)
            row[f"{name}_tempo"] = f"{estimate.tempo}"
            row[f"{name}_key"] = f"{estimate.key}"
            row[f"{name}_tempo_confidence"] = f"{estimate.tempo_confidence}"
        if per_clip is not None:
            per_clip.append(row)
    return tallies


def format_report(tallies: dict[str, dict[str, Tally]], names: Sequence[str]) -> str:
    metrics = (
        ("acc1", "tempo Acc1"),
        ("acc2", "tempo Acc2"),
        ("exact", "key exact"),
        ("offered", "key +alts"),
        ("mirex", "key MIREX"),
    )
    cell = max(9, *(len(n) + 1 for n in names))
    width = cell * len(names)
    top = f"{'':<14}{'n':>5}  " + "  ".join(f"{title:^{width}}" for _, title in metrics)
    sub = f"{'':<14}{'':>5}  " + "  ".join("".join(f"{n:>{cell}}" for n in names) for _ in metrics)
    lines = [top, sub]
    order = ["all"] + sorted(g for g in tallies if g != "all")
    for group in order:
        by_name = tallies[group]
        n = max(t.tempo_n for t in by_name.values())
        cells = []
        for metric, _ in metrics:
            cells.append("".join(f"{by_name[name].figures()[metric]:>{cell}.3f}" for name in names))
        lines.append(f"{group:<14}{n:>5}  " + "  ".join(cells))
    return "\n".join(lines)


def format_bpm_errors(tallies: dict[str, dict[str, Tally]], names: Sequence[str]) -> str:
    """Per group, each estimator's median and 90th-percentile BPM error on its Acc1 hits (and n)."""
    cell = max(20, *(len(n) + 2 for n in names))
    lines = [
        "BPM error on Acc1 hits (median / 90th percentile, n)",
        f"{'':<19}" + "".join(f"{n:>{cell}}" for n in names),
    ]
    for group in ["all"] + sorted(g for g in tallies if g != "all"):
        cells = []
        for name in names:
            errors = tallies[group][name].bpm_errors
            text = (
                f"{np.median(errors):.2f} / {np.percentile(errors, 90):.2f} ({len(errors)})"
                if errors
                else "-"
            )
            cells.append(f"{text:>{cell}}")
        lines.append(f"{group:<19}" + "".join(cells))
    return "\n".join(lines)


def format_confidence(tally: Tally, name: str) -> str:
    def mean(values: Iterable[float]) -> str:
        values = list(values)
        return f"{np.mean(values):.2f} (n={len(values)})" if values else "-"

    lines = []
    if tally.tempo_conf[True] or tally.tempo_conf[False]:
        lines += [
            f"{name} tempo confidence: right (Acc1) {mean(tally.tempo_conf[True])}, wrong {mean(tally.tempo_conf[False])}",
            f"{name} key confidence: right (exact) {mean(tally.key_conf[True])}, wrong {mean(tally.key_conf[False])}",
        ]
    if tally.bpm_errors:
        errors = np.array(tally.bpm_errors)
        lines.append(
            f"{name} BPM error on its {len(errors)} Acc1 hits: median {np.median(errors):.2f}, "
            f"90th percentile {np.percentile(errors, 90):.2f} BPM"
        )
    if tally.seconds:
        ms = np.array(tally.seconds) * 1000
        lines.append(
            f"{name} time per clip (tempo + key): median {np.median(ms):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms"
        )
    return "\n".join(lines)


class _TempoEstimate(Protocol):
    @property
    def bpm(self) -> float | None: ...
    @property
    def confidence(self) -> float: ...


def _with_project_key(path: Path, estimate_tempo: Callable[[np.ndarray, int], _TempoEstimate]) -> Estimate:
    """Decode as the worker does, then `estimate_tempo` and the project's key, timed together."""
    from worker import analysis
    from worker.audio.decode import load_audio

    audio = load_audio(path)
    start = time.perf_counter()
    tempo = estimate_tempo(audio.samples, audio.sample_rate)
    key = analysis.estimate_key(audio.samples, audio.sample_rate)
    seconds = time.perf_counter() - start
    return Estimate(
        tempo.bpm,
        key.name,
        tempo.confidence,
        key.confidence,
        seconds,
        tuple(name for name, _ in key.alternatives),
    )


def project_estimator(path: Path) -> Estimate:
    """What the worker serves: worker.analysis (learned tempo fused with the onset estimator)."""
    from worker import analysis

    return _with_project_key(path, analysis.estimate_tempo)


def onset_estimator(path: Path) -> Estimate:
    """The onset estimator the worker served before the learned front end; key as project."""
    from worker.music import tempo as onset_tempo

    return _with_project_key(path, onset_tempo.estimate)


def beatnet_estimator(path: Path) -> Estimate:
    """BeatNet's learned tempo alone (no fusion, its own comb confidence); key as project."""
    from worker.music import beats

    return _with_project_key(path, beats.estimate)


def librosa_estimator(path: Path) -> Estimate:
    """Default beat_track for tempo; mean STFT chroma against Krumhansl-Kessler profiles for key."""
    import librosa

    y, sr = librosa.load(path)  # librosa's defaults: 22.05 kHz mono
    start = time.perf_counter()
    tempo, _ = librosa.beat.beat_track(y=y, sr=sr)
    chroma = librosa.feature.chroma_stft(y=y, sr=sr).mean(axis=1)
    seconds = time.perf_counter() - start
    bpm = float(np.atleast_1d(tempo)[0])
    return Estimate(bpm if bpm > 0 else None, krumhansl_schmuckler(chroma), seconds=seconds)


def krumhansl_schmuckler(chroma: np.ndarray) -> str | None:
    if not np.all(np.isfinite(chroma)) or np.ptp(chroma) <= 0:
        return None
    scores = [np.corrcoef(chroma, np.roll(p, t))[0, 1] for p in (KK_MAJOR, KK_MINOR) for t in range(12)]
    best = int(np.argmax(scores))
    return key_name(best)


ESTIMATORS: dict[str, Estimator] = {
    "project": project_estimator,
    "onset (before)": onset_estimator,
    "beatnet": beatnet_estimator,
    "librosa": librosa_estimator,
}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("annotations", type=Path, help="TSV: file, tempo, key[, genre]")
    parser.add_argument("--group-by", default="genre", help="column to break figures down by (default genre)")
    parser.add_argument("--limit", type=int, help="only the first N clips")
    parser.add_argument("--per-clip", type=Path, help="also write every clip's estimates to this TSV")
    args = parser.parse_args(argv)
    try:
        annotations = read_annotations(args.annotations)[: args.limit]
    except (OSError, AnnotationError) as exc:
        sys.exit(f"cannot read annotations: {exc}")
    missing = [str(a.file) for a in annotations if not a.file.is_file()]
    if missing:
        sys.exit(f"{len(missing)} annotated files are missing, e.g. {missing[0]}")

    for estimator in ESTIMATORS.values():
        estimator(annotations[0].file)  # warm-up: imports and numba compilation stay out of the timings
    rows: list[dict[str, str]] = []
    tallies = evaluate(annotations, ESTIMATORS, args.group_by, rows)
    print(f"{len(annotations)} clips from {args.annotations}")
    print(format_report(tallies, list(ESTIMATORS)))
    print(format_bpm_errors(tallies, list(ESTIMATORS)))
    for name in ESTIMATORS:
        text = format_confidence(tallies["all"][name], name)
        if text:
            print(text)
    if args.per_clip:
        with args.per_clip.open("w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter="\t")
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    main()
