"""Key estimation options side by side on keyed clips, scored with mir_eval (issue 24).

    nice -n 10 .venv/bin/python bench/key_options.py /work/main/var/realset/annotations.tsv [more.tsv ...] \
        [--limit N] [--select-by genre] [--all out.tsv]

Every clip is decoded once (worker.audio.decode.load_audio: the worker's own 16 kHz, 30 s excerpt)
and every option runs on that excerpt, except the librosa baseline, which is bench/accuracy.py's
(librosa.load at 22.05 kHz, mean chroma_stft, Krumhansl-Schmuckler).

An option is a front end (the chroma) and a back end (profiles, mode decision, whole clip or
local keys). The grid is every front end with every back end:

Front ends (frames of 12-bin chroma, and for `own` also the bass band 40-250 Hz):
- own: the shipped worker.music.key.chroma_frames (8192-point STFT at 16 kHz, own tuning).
- own+spec-hpss: the same with a cheap harmonic/percussive split on its own spectrogram (below).
- own+hpss: the same on librosa.effects.harmonic(y) (median-filter harmonic/percussive
  separation, Fitzgerald 2010, librosa's defaults).
- stft / cqt / cens: librosa.feature.chroma_stft (4096-point frames), chroma_cqt, chroma_cens, with
  tuning 0 ("t0") or librosa.estimate_tuning's ("tun"; what tuning=None does); the "tun" ones also after HPSS.
Back ends:
- profiles: kk, temperley, edma, aarden, bellman (sources beside PROFILES below). The key scores
  are Pearson correlations of the mean chroma with the 24 rotated profiles (Krumhansl-Schmuckler);
  "+bass" adds the bass chroma's correlations (the shipped method).
- mode: "corr" takes the best-correlated key; "3rd6th" takes its tonic (best of both modes) and
  decides the mode by the third, then the sixth (worker.music.key.mode_by_third_and_sixth).
- span: "whole" uses the clip's mean chroma; "vote8" decides each 8 s window the same way and
  takes the majority (ties go to the tied key with the highest whole-clip score).

Printed per option: n, key exact, MIREX (mean mir_eval.key.weighted_score), the relation of the
errors to the truth (a fifth either way, relative, parallel, other, none), "offered" (exact or the
truth among the four related keys the page offers: relative, parallel, a fifth either way),
"alt1" (exact or the truth is the first of those alternatives), "top4" (exact or the truth among the
four best-scored other keys), and milliseconds per clip
(median of front end + back end, decode excluded; HPSS time counted in every option that uses it).

Selection bias: the full grid has many options on few clips, so the best row is optimistic. The
script says how many options it tried and runs a leave-one-group-out selection (the best option by
MIREX on all other groups of --select-by, scored on the held-out group), which estimates what
picking the best option is really worth.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.accuracy import NO_KEY, Annotation, key_score, krumhansl_schmuckler, read_annotations  # noqa: E402
from worker.music import key as shipped  # noqa: E402
from worker.music import theory  # noqa: E402

SAMPLE_RATE = 16_000
HOP = 2048  # librosa front ends: 128 ms hops at 16 kHz
STFT_N_FFT = 4096
WINDOW_S = 8.0

# Key profiles, tonic first (C major / C minor). The numbers are published ratings or corpus counts;
# each is checked against at least one independent implementation named here.
PROFILES: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    # Krumhansl & Kessler (1982), probe-tone ratings; Krumhansl, "Cognitive Foundations of Musical
    # Pitch" (1990), table 2.1. The shipped profiles.
    "kk": (tuple(shipped.MAJOR_PROFILE), tuple(shipped.MINOR_PROFILE)),
    # Temperley, "Music and Probability" (2007): pitch-class distributions of the Kostka-Payne
    # harmony-textbook corpus (music21 analysis.discrete.TemperleyKostkaPayne; essentia Key
    # "temperley2005").
    "temperley": (
        (0.748, 0.060, 0.488, 0.082, 0.670, 0.460, 0.096, 0.715, 0.104, 0.366, 0.057, 0.400),
        (0.712, 0.084, 0.474, 0.618, 0.049, 0.460, 0.105, 0.747, 0.404, 0.067, 0.133, 0.330),
    ),
    # Faraldo, Gómez, Jordà & Herrera, "Key estimation in electronic dance music", ECIR 2016:
    # profiles learnt from an EDM corpus ("edma"; essentia src/algorithms/tonal/key.cpp).
    "edma": (
        (0.16519551, 0.04749026, 0.08293076, 0.06687112, 0.09994645, 0.09274123)
        + (0.05294487, 0.13159476, 0.05218986, 0.07443653, 0.06940723, 0.0642515),
        (0.17235348, 0.05336489, 0.0761009, 0.10043649, 0.05621498, 0.08527853)
        + (0.0497915, 0.13451001, 0.07458916, 0.05003023, 0.09187879, 0.05545106),
    ),
    # Aarden (2003), PhD thesis, Ohio State: pitch-class counts of the Essen folksong collection
    # (music21 analysis.discrete.AardenEssen; Humdrum Extras keycor).
    "aarden": (
        (17.7661, 0.145624, 14.9265, 0.160186, 19.8049, 11.3587)
        + (0.291248, 22.062, 0.145624, 8.15494, 0.232998, 4.95122),
        (18.2648, 0.737619, 14.0499, 16.8599, 0.702494, 14.4362)
        + (0.702494, 18.6161, 4.56621, 1.93186, 7.37619, 1.75623),
    ),
    # Bellman (2005), CMMR, from Budge's (1943) chord statistics (music21 analysis.discrete.BellmanBudge;
    # Humdrum Extras keycor).
    "bellman": (
        (16.80, 0.86, 12.95, 1.41, 13.49, 11.93, 1.25, 20.28, 1.80, 8.04, 0.62, 10.57),
        (18.16, 0.69, 12.99, 13.34, 1.07, 11.15, 1.38, 21.07, 7.49, 1.53, 0.92, 10.21),
    ),
}
MODES = ("corr", "3rd6th")
SPANS = ("whole", "vote8")
RELATIONS = ("exact", "fifth", "relative", "parallel", "other", "none")


def _standardise(x: np.ndarray) -> np.ndarray:
    return (x - x.mean(axis=-1, keepdims=True)) / (x.std(axis=-1, keepdims=True) + 1e-12)


# 24 standardised rotated profiles per name: rows majors C..B, then minors C..B.
_MATRICES = {
    name: np.array([_standardise(np.roll(np.array(p), t)) for p in pair for t in range(12)])
    for name, pair in PROFILES.items()
}


@dataclass
class Chroma:
    """One front end's output on one clip."""

    full: np.ndarray  # (12, frames)
    bass: np.ndarray | None
    frame_rate: float
    seconds: float


@dataclass(frozen=True)
class Option:
    front: str
    profile: str
    bass: bool
    mode: str
    span: str

    @property
    def name(self) -> str:
        return f"{self.front}{'+bass' if self.bass else ''}/{self.profile}/{self.mode}/{self.span}"


@dataclass(frozen=True)
class Answer:
    key: str | None
    offered: tuple[str, ...]  # the four related keys the page would offer
    top4: tuple[str, ...]  # the four best-scored other keys
    seconds: float


# ---------------------------------------------------------------- front ends


def _own(y: np.ndarray) -> Chroma:
    start = time.perf_counter()
    full, bass, rate = shipped.chroma_frames(y, SAMPLE_RATE)
    return Chroma(full, bass, rate, time.perf_counter() - start)


def _own_spectral_hpss(y: np.ndarray) -> Chroma:
    """The shipped front end with a cheap harmonic/percussive split on its own 8192-point power
    spectrogram (librosa.decompose.hpss, soft mask; kernels 5 frames = 1.3 s by 31 bins = 62 Hz),
    below 5 kHz only: the separation the shipped estimator could afford."""
    import librosa

    start = time.perf_counter()
    n_fft = int(2 ** round(np.log2(SAMPLE_RATE * shipped.FRAME_S)))
    power = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=n_fft // 2)).astype(np.float32) ** 2
    freqs = librosa.fft_frequencies(sr=SAMPLE_RATE, n_fft=n_fft)
    top = int(np.searchsorted(freqs, 5000.0))
    harmonic, _ = librosa.decompose.hpss(power[:top], kernel_size=(31, 5))
    power = np.vstack([harmonic, np.zeros_like(power[top:])])
    bass = power * ((freqs >= shipped.BASS_HZ[0]) & (freqs <= shipped.BASS_HZ[1]))[:, None]
    tuning = (
        round(shipped.estimate_tuning(power.mean(axis=1), freqs) / shipped.TUNING_STEP) * shipped.TUNING_STEP
    )
    bank = shipped._chroma_filters(SAMPLE_RATE, n_fft, tuning)
    full = np.nan_to_num(librosa.util.normalize(np.asarray(bank @ power), norm=np.inf, axis=0))
    low = np.nan_to_num(librosa.util.normalize(np.asarray(bank @ bass), norm=np.inf, axis=0))
    return Chroma(full, low, SAMPLE_RATE / (n_fft // 2), time.perf_counter() - start)


def _librosa(kind: str, tuning: float | None) -> Callable[[np.ndarray], Chroma]:
    def run(y: np.ndarray) -> Chroma:
        import librosa

        start = time.perf_counter()
        if kind == "stft":
            c = librosa.feature.chroma_stft(
                y=y, sr=SAMPLE_RATE, n_fft=STFT_N_FFT, hop_length=HOP, tuning=tuning
            )
        elif kind == "cqt":
            c = librosa.feature.chroma_cqt(y=y, sr=SAMPLE_RATE, hop_length=HOP, tuning=tuning)
        else:
            c = librosa.feature.chroma_cens(y=y, sr=SAMPLE_RATE, hop_length=HOP, tuning=tuning)
        return Chroma(np.nan_to_num(c), None, SAMPLE_RATE / HOP, time.perf_counter() - start)

    return run


FRONT_ENDS: dict[str, Callable[[np.ndarray], Chroma]] = {
    "own": _own,
    "own+spec-hpss": _own_spectral_hpss,
    "stft-t0": _librosa("stft", 0.0),
    "stft-tun": _librosa("stft", None),
    "cqt-t0": _librosa("cqt", 0.0),
    "cqt-tun": _librosa("cqt", None),
    "cens-t0": _librosa("cens", 0.0),
    "cens-tun": _librosa("cens", None),
}
HPSS_FRONT_ENDS = ("own", "stft-tun", "cqt-tun", "cens-tun")


def front_ends(y: np.ndarray) -> dict[str, Chroma]:
    import librosa

    out = {name: run(y) for name, run in FRONT_ENDS.items()}
    start = time.perf_counter()
    harmonic = librosa.effects.harmonic(y)
    hpss_seconds = time.perf_counter() - start
    for name in HPSS_FRONT_ENDS:
        chroma = FRONT_ENDS[name](harmonic)
        chroma.seconds += hpss_seconds
        out[f"{name}+hpss"] = chroma
    return out


# ---------------------------------------------------------------- back ends


def scores(profile: str, full: np.ndarray, bass: np.ndarray | None) -> np.ndarray:
    matrix = _MATRICES[profile]
    total = matrix @ _standardise(full) / 12.0
    if bass is not None and np.ptp(bass) > 1e-6:
        total = total + matrix @ _standardise(bass) / 12.0
    return total


def decide(option: Option, full: np.ndarray, bass: np.ndarray | None) -> tuple[int, np.ndarray]:
    """(key index 0-23, the 24 scores) of mean chroma vectors, or (-1, zeros) for a flat chroma."""
    if np.ptp(full) < 1e-6:
        return -1, np.zeros(24)
    s = scores(option.profile, full, bass if option.bass else None)
    winner = int(np.argmax(s))
    if option.mode == "corr":
        return winner, s
    tonic = winner % 12
    minor, _ = shipped.mode_by_third_and_sixth(full, tonic)
    return tonic + 12 * (winner >= 12 if minor is None else minor), s


def answer(option: Option, chroma: Chroma) -> Answer:
    start = time.perf_counter()
    bass = chroma.bass if option.bass else None
    index, s = decide(option, chroma.full.mean(axis=1), None if bass is None else bass.mean(axis=1))
    if index >= 0 and option.span == "vote8":
        index = _vote(option, chroma, s, index)
    seconds = chroma.seconds + time.perf_counter() - start
    if index < 0:
        return Answer(None, (), (), seconds)
    related = sorted(
        (shipped.key_name(_index(key)) for key, _ in theory.related_keys(_key(index))), key=_by(s)
    )
    offered = tuple(related)  # ranked by score, most likely first, as the shipped estimator ranks them
    others = [k for k in np.argsort(-s) if k != index][:4]
    return Answer(shipped.key_name(index), offered, tuple(shipped.key_name(int(k)) for k in others), seconds)


def _vote(option: Option, chroma: Chroma, whole: np.ndarray, fallback: int) -> int:
    size = max(1, int(round(WINDOW_S * chroma.frame_rate)))
    frames = chroma.full.shape[1]
    votes = []
    for start in range(0, frames - size + 1, size):
        window = slice(start, start + size)
        bass = None if chroma.bass is None else chroma.bass[:, window].mean(axis=1)
        index, _ = decide(option, chroma.full[:, window].mean(axis=1), bass)
        if index >= 0:
            votes.append(index)
    if not votes:
        return fallback
    counts = Counter(votes)
    top = max(counts.values())
    tied = [k for k, c in counts.items() if c == top]
    return max(tied, key=lambda k: whole[k])


def _index(key: theory.Key) -> int:
    return key.tonic + (12 if key.mode == theory.MINOR else 0)


def _by(scores: np.ndarray) -> Callable[[str], float]:
    def rank(name: str) -> float:
        key = theory.parse_key(name)
        return -float(scores[_index(key)]) if key else 0.0

    return rank


def _key(index: int) -> theory.Key:
    return theory.Key(index % 12, theory.MINOR if index >= 12 else theory.MAJOR)


def all_options() -> list[Option]:
    fronts = list(FRONT_ENDS) + [f"{name}+hpss" for name in HPSS_FRONT_ENDS]
    out = []
    for front in fronts:
        for bass in (True, False) if front.startswith("own") else (False,):
            for profile in PROFILES:
                for mode in MODES:
                    for span in SPANS:
                        out.append(Option(front, profile, bass, mode, span))
    return out


# ---------------------------------------------------------------- baselines


def shipped_answer(y: np.ndarray) -> Answer:
    start = time.perf_counter()
    found = shipped.estimate(y, SAMPLE_RATE)
    seconds = time.perf_counter() - start
    return Answer(found.name, tuple(name for name, _ in found.alternatives), (), seconds)


def librosa_answer(path: Path) -> Answer:
    """bench/accuracy.py's key baseline: librosa.load defaults, mean chroma_stft, Krumhansl-Kessler."""
    import librosa

    y, sr = librosa.load(path)
    start = time.perf_counter()
    chroma = librosa.feature.chroma_stft(y=y, sr=sr).mean(axis=1)
    name = krumhansl_schmuckler(chroma)
    seconds = time.perf_counter() - start
    offered = tuple(k.name for k, _ in theory.related_keys(theory.parse_key(name))) if name else ()  # type: ignore[arg-type]
    return Answer(name, offered, (), seconds)


# ---------------------------------------------------------------- scoring


def relation(reference: str, estimate: str | None) -> str:
    if estimate is None:
        return "none"
    ref, est = theory.parse_key(reference), theory.parse_key(estimate)
    if ref is None or est is None:
        return "none"
    if est == ref:
        return "exact"
    if est in (theory.fifth_up(ref), theory.fifth_down(ref)):
        return "fifth"
    if est == theory.relative(ref):
        return "relative"
    if est == theory.parallel(ref):
        return "parallel"
    return "other"


@dataclass
class Tally:
    scores: list[float] = field(default_factory=list)
    relations: Counter[str] = field(default_factory=Counter)
    offered: int = 0
    first: int = 0
    top4: int = 0
    seconds: list[float] = field(default_factory=list)

    def add(self, reference: str, found: Answer) -> None:
        rel = relation(reference, found.key)
        self.scores.append(key_score(reference, found.key))
        self.relations[rel] += 1
        truth = theory.parse_key(reference)
        offered = {theory.parse_key(k) for k in found.offered}
        top4 = {theory.parse_key(k) for k in found.top4}
        self.offered += rel == "exact" or truth in offered
        self.first += rel == "exact" or (bool(found.offered) and theory.parse_key(found.offered[0]) == truth)
        self.top4 += rel == "exact" or truth in top4
        self.seconds.append(found.seconds)

    def row(self, name: str) -> str:
        n = len(self.scores)
        exact = self.relations["exact"] / n
        mirex = float(np.mean(self.scores))
        rels = " ".join(f"{self.relations[r]:>4}" for r in RELATIONS[1:])
        top4 = f"{self.top4 / n:>6.3f}" if "/" in name else f"{'-':>6}"
        ms = np.median(self.seconds) * 1000
        return f"{name:<40}{n:>4}{exact:>7.3f}{mirex:>7.3f}  {rels}{self.offered / n:>8.3f}{self.first / n:>6.3f}{top4}{ms:>8.1f}"


HEADER = (
    f"{'option':<40}{'n':>4}{'exact':>7}{'MIREX':>7}  {'5th':>4} {'rel':>4} {'par':>4} {'oth':>4} {'none':>4}"
    f"{'offered':>8}{'alt1':>6}{'top4':>6}{'ms':>8}"
)


def run(annotations: Sequence[Annotation]) -> tuple[dict[str, Tally], list[dict[str, Answer]]]:
    from worker.audio.decode import load_audio

    options = all_options()
    tallies: dict[str, Tally] = {}
    per_clip: list[dict[str, Answer]] = []
    for number, annotation in enumerate(annotations, start=1):
        y = load_audio(annotation.file).samples
        answers = {"shipped": shipped_answer(y), "librosa": librosa_answer(annotation.file)}
        chromas = front_ends(y)
        for option in options:
            answers[option.name] = answer(option, chromas[option.front])
        for name, found in answers.items():
            tallies.setdefault(name, Tally()).add(annotation.key, found)
        per_clip.append(answers)
        print(f"  {number}/{len(annotations)} {annotation.file.name}", file=sys.stderr)
    return tallies, per_clip


def select_out_of_group(
    annotations: Sequence[Annotation], per_clip: list[dict[str, Answer]], names: Sequence[str], column: str
) -> tuple[float, float, list[tuple[str, str]]]:
    """Leave one group out: pick the best option by MIREX on the other groups, score it on the group.
    Returns (that MIREX over all clips, the shipped estimator's MIREX on the same clips, the picks)."""
    score = np.array(
        [
            [key_score(a.key, clip[name].key) for name in names]
            for a, clip in zip(annotations, per_clip, strict=True)
        ]
    )
    groups = [a.columns.get(column, "") for a in annotations]
    chosen = np.zeros(len(annotations))
    picks = []
    for group in sorted(set(groups)):
        held = np.array([g == group for g in groups])
        best = int(np.argmax(score[~held].mean(axis=0)))  # first of equals: the order of `names`
        chosen[held] = score[held, best]
        picks.append((group, names[best]))
    shipped_mirex = float(
        np.mean(
            [key_score(a.key, clip["shipped"].key) for a, clip in zip(annotations, per_clip, strict=True)]
        )
    )
    return float(chosen.mean()), shipped_mirex, picks


def report(tallies: dict[str, Tally], options: Sequence[Option]) -> str:
    by_name = {o.name: o for o in options}

    def rows(title: str, names: Sequence[str]) -> list[str]:
        return ["", title, HEADER] + [tallies[n].row(n) for n in names]

    base = Option("own", "kk", True, "3rd6th", "whole")
    lines = rows(
        "Baselines (shipped = worker.music.key.estimate; librosa = bench/accuracy.py's)",
        ["shipped", "librosa"],
    )
    lines += rows(
        "Front ends (Krumhansl-Kessler, best-correlated key, whole clip)",
        [o.name for o in options if o.profile == "kk" and o.mode == "corr" and o.span == "whole"],
    )
    lines += rows(
        "Profiles x mode decision (shipped front end with bass, whole clip)",
        [o.name for o in options if o.front == "own" and o.bass and o.span == "whole"],
    )
    lines += rows(
        "Profiles x mode decision (cqt-tun+hpss, whole clip)",
        [o.name for o in options if o.front == "cqt-tun+hpss" and o.span == "whole"],
    )
    lines += rows(
        "Local keys over 8 s windows, voted, against the whole clip",
        [
            n
            for o in options
            if o.span == "vote8" and o.profile == "kk"
            for n in (o.name.replace("vote8", "whole"), o.name)
        ],
    )
    ranked = sorted(by_name, key=lambda n: (-np.mean(tallies[n].scores), -tallies[n].relations["exact"]))
    lines += rows(f"Best 12 of all {len(options)} grid options by MIREX (selection-biased)", ranked[:12])
    lines += ["", f"grid option equal to the shipped method: {base.name}"]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("annotations", type=Path, nargs="+", help="one or more annotation TSVs, pooled")
    parser.add_argument("--limit", type=int)
    parser.add_argument(
        "--select-by", default="genre", help="group column for the leave-one-group-out selection"
    )
    parser.add_argument("--all", type=Path, help="write every option's figures to this TSV")
    args = parser.parse_args(argv)
    pooled = [a for path in args.annotations for a in read_annotations(path)]
    annotations = [a for a in pooled if a.key != NO_KEY][: args.limit]
    if not annotations:
        sys.exit("no keyed clips")
    options = all_options()
    from worker.audio.decode import load_audio

    front_ends(load_audio(annotations[0].file).samples)  # warm-up: imports and caches out of the timings
    shipped_answer(load_audio(annotations[0].file).samples)
    tallies, per_clip = run(annotations)
    sources = ", ".join(str(p) for p in args.annotations)
    print(f"{len(annotations)} keyed clips from {sources}; {len(options)} grid options + 2 baselines")
    print(report(tallies, options))
    names = [o.name for o in options]
    cv, base, picks = select_out_of_group(annotations, per_clip, names, args.select_by)
    print(
        f"\nLeave-one-{args.select_by}-out selection over {len(names)} options: MIREX {cv:.3f} "
        f"(shipped {base:.3f} on the same clips)"
    )
    for group, name in picks:
        print(f"  without {group or '(none)'}: {name}")
    if args.all:
        with args.all.open("w", newline="") as out:
            writer = csv.writer(out, delimiter="\t")
            writer.writerow(
                ["option", "n", "exact", "mirex", *RELATIONS[1:], "offered", "alt1", "top4", "ms"]
            )
            for name, t in tallies.items():
                n = len(t.scores)
                writer.writerow(
                    [name, n, t.relations["exact"] / n, np.mean(t.scores)]
                    + [t.relations[r] for r in RELATIONS[1:]]
                    + [t.offered / n, t.first / n, t.top4 / n, np.median(t.seconds) * 1000]
                )


if __name__ == "__main__":
    main()
