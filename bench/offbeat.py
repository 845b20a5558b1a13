"""Does off-beat emphasis (bench/offbeat_figure.py) tell reggae from our seven genres? (issue 27)

    nice -n 10 .venv/bin/python bench/offbeat.py [REALSET]     # default var/realset

For every clip of REALSET/genre.tsv: the worker's beats (worker.analysis.estimate_tempo, BeatNet
fused with the onset estimator) and the mid-band off-beat figures at three levels of that grid, and
beside them the same statistic read on BeatNet's beat activation instead of the mid-band onsets
(`act_*`: does the network hear beats between the tracked ones?), and a baseline in the same run: the same statistic on librosa's full-band onset strength
(librosa.onset.onset_strength) at librosa's beats (librosa.beat.beat_track). Prints per source label
and per genre the median and range of each figure, then for each figure the ROC AUC of "reggae/dub
vs in-genre", "reggae/dub vs in-genre without classical", "all outside vs in-genre", and how many
in-genre clips score at or above the lowest reggae/dub clip.

The figures are kept in CACHE (one row per clip, keyed by the audio's sha256; the file is named after
bench.offbeat_figure.VERSION), so a clip is measured once (`read_cache` gives it to other benches).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import offbeat_figure as offbeat  # noqa: E402

REALSET = ROOT / "var" / "realset"
FIGURES = ("emphasis", "beat", "sub", "pair", "act_emphasis", "act_beat", "base_emphasis", "base_beat")
COLUMNS_VERSION = 2  # bumped when FIGURES change
CACHE = ROOT / "var" / "offbeat" / f"figures-v{offbeat.VERSION}.{COLUMNS_VERSION}.tsv"
REGGAE = ("reggae", "dub")
OUTSIDE = "outside"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_cache(cache: Path = CACHE) -> dict[str, dict[str, float | None]]:
    """sha256 -> figures (None where the clip had too few beats)."""
    if not cache.exists():
        return {}
    with cache.open(newline="") as handle:
        return {
            row["sha256"]: {f: (float(row[f]) if row[f] != "" else None) for f in FIGURES}
            for row in csv.DictReader(handle, delimiter="\t")
        }


def write_cache(table: dict[str, dict[str, float | None]], cache: Path = CACHE) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    with cache.open("w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(["sha256", *FIGURES])
        for key, row in sorted(table.items()):
            writer.writerow([key, *("" if row[f] is None else f"{row[f]:.4f}" for f in FIGURES)])


def measure_clip(path: Path) -> dict[str, float | None]:
    """The worker's off-beat figures and the librosa baseline for one clip."""
    import librosa

    from worker.analysis import estimate_tempo
    from worker.audio.decode import load_audio
    from worker.music import beatnet

    audio = load_audio(path)
    tempo = estimate_tempo(audio.samples, audio.sample_rate)
    ours = offbeat.measure(audio.samples, audio.sample_rate, tempo.beats, tempo.downbeats)
    # BeatNet's beat activation (beat + downbeat, as worker.music.beats sums them) read the same way.
    activation = beatnet.activations(audio.samples, audio.sample_rate).sum(axis=1)
    act = offbeat.from_envelopes(activation, beatnet.FPS, tempo.beats, downbeats=tempo.downbeats)
    hop = 160
    envelope = librosa.onset.onset_strength(y=audio.samples, sr=audio.sample_rate, hop_length=hop)
    _, frames = librosa.beat.beat_track(onset_envelope=envelope, sr=audio.sample_rate, hop_length=hop)
    fps = audio.sample_rate / hop
    base = offbeat.from_envelopes(np.asarray(envelope, np.float64), fps, np.asarray(frames) / fps)
    return {
        "emphasis": ours.emphasis if ours else None,
        "beat": ours.beat if ours else None,
        "sub": ours.sub if ours else None,
        "pair": ours.pair if ours else None,
        "act_emphasis": act.emphasis if act else None,
        "act_beat": act.beat if act else None,
        "base_emphasis": base.emphasis if base else None,
        "base_beat": base.beat if base else None,
    }


def figures_of(
    rows: Sequence[dict[str, str]], realset: Path, cache: Path = CACHE
) -> list[dict[str, float | None]]:
    """Each row's figures, measured once and kept in `cache`."""
    table = read_cache(cache)
    out = []
    for n, row in enumerate(rows, 1):
        key = sha256(realset / row["file"])
        if key not in table:
            table[key] = measure_clip(realset / row["file"])
            print(f"{n}/{len(rows)} {row['file']}", file=sys.stderr)
            if n % 20 == 0:
                write_cache(table, cache)
        out.append(table[key])
    write_cache(table, cache)
    return out


def auc(positives: Sequence[float], negatives: Sequence[float]) -> float | None:
    """P(a positive scores above a negative), ties counting half (Mann-Whitney)."""
    if not positives or not negatives:
        return None
    p = np.asarray(positives)[:, None]
    n = np.asarray(negatives)[None, :]
    return float(((p > n).sum() + 0.5 * (p == n).sum()) / (p.size * n.size))


def summary(values: Sequence[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "—"
    return f"{np.median(known):+.2f} [{min(known):+.2f}, {max(known):+.2f}]"


def report(rows: Sequence[dict[str, str]], figures: Sequence[dict[str, float | None]]) -> str:
    groups: dict[str, list[int]] = defaultdict(list)
    genres: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        groups[f"{row['genre']} / {row['source_label']}"].append(i)
        genres[row["genre"]].append(i)
    header = "| {} | n | " + " | ".join(f"{f} median [range]" for f in FIGURES) + " |"
    rule = "|---|---|" + "---|" * len(FIGURES)
    lines = []
    for title, grouping in (("genre / source label", groups), ("genre", genres)):
        lines += ["", header.format(title), rule]
        for name in sorted(grouping):
            idx = grouping[name]
            cells = " | ".join(summary([figures[i][f] for i in idx]) for f in FIGURES)
            lines.append(f"| {name} | {len(idx)} | {cells} |")
    inside = [i for i, r in enumerate(rows) if r["genre"] != OUTSIDE]
    inside_nc = [i for i in inside if rows[i]["genre"] != "classical"]
    outside = [i for i, r in enumerate(rows) if r["genre"] == OUTSIDE]
    reggae = [i for i, r in enumerate(rows) if r["source_label"] in REGGAE]
    lines += [
        "",
        "| figure | AUC reggae/dub vs in-genre | AUC reggae/dub vs in-genre w/o classical "
        "| AUC outside vs in-genre | in-genre >= lowest reggae/dub | clips without a figure |",
        "|---|---|---|---|---|---|",
    ]
    for f in FIGURES:

        def vals(idx: Sequence[int], f: str = f) -> list[float]:
            return [v for i in idx if (v := figures[i][f]) is not None]

        r, ins = vals(reggae), vals(inside)
        above = sum(v >= min(r) for v in ins) if r else None
        missing = sum(figures[i][f] is None for i in range(len(rows)))
        lines.append(
            f"| {f} | {fmt(auc(r, ins))} | {fmt(auc(r, vals(inside_nc)))} | {fmt(auc(vals(outside), ins))} "
            f"| {above} of {len(ins)} | {missing} |"
        )
    return "\n".join(lines)


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("realset", type=Path, nargs="?", default=REALSET)
    args = parser.parse_args(argv)
    with (args.realset / "genre.tsv").open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    print(report(rows, figures_of(rows, args.realset)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
