"""Beats, downbeats and beats per bar of worker.music.beats on the real development set, beside baselines.

    .venv/bin/python bench/downbeats.py [--realset var/realset] [--mirror DIR]

Clips: the GTZAN clips of the development set (`bench/realset.py restore` writes them under
--realset), with GTZAN-Rhythm's beat and downbeat annotations (Marchand and Peeters; one line per beat,
"time<TAB>beat number", 1 for a downbeat), read from the snapshot of TempoBeatDownbeat/gtzan_tempo_beat
under --mirror (default /work/.mirror or $SEVENFOUR_MIRROR). Each clip is decoded as the worker does
(worker.audio.decode.load_audio, the middle 30 s at 16 kHz) and every method is scored on that
excerpt: the annotations are cut to it (the 89 classical clips of the set are only their first 15 s).

Methods, in the same run:
- librosa, every 4th: librosa.beat.beat_track with default arguments on librosa.load (22.05 kHz), the
  downbeats every fourth beat from the first;
- learned, every 4th: the beats worker.music.beats tracks on BeatNet's activations, downbeats every
  fourth beat from the first (no downbeat model);
- learned + bar (shipped): the same beats, with the downbeats and beats per bar of `beats.bar`;
- learned + bar, 3 or 4 free: the same with `three_margin` 0 (three or four beats, whichever
  contrast is higher, without the shipped preference for four).

Scores: mir_eval 0.8.2 F-measure (70 ms window) of the beats and of the downbeats, with
mir_eval.beat.trim_beats's usual cut of the first 5 s on both sides, averaged over clips; and the share
of clips whose beats per bar equals the largest beat number of the annotation (librosa and "every 4th"
say 4 for every clip), overall ("bar right") and among the clips annotated in three and in four.
"no bar" counts the clips where beats_per_bar is None (no downbeats reported; downbeat F 0).
BeatNet's activations and librosa's beats are cached under var/downbeats/ (keyed by the ONNX graph's
file name), so a second run only decodes.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import realset  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "var" / "downbeats"


@dataclass(frozen=True)
class Reference:
    beats: np.ndarray  # seconds from the excerpt's start
    downbeats: np.ndarray
    beats_per_bar: int  # the largest beat number


@dataclass(frozen=True)
class Guess:
    beats: np.ndarray
    downbeats: np.ndarray
    beats_per_bar: int | None


def gtzan_clips(realset_dir: Path) -> list[tuple[str, Path]]:
    """(GTZAN-Rhythm name such as gtzan_blues_00000, audio path) of each GTZAN clip of the set."""
    with (realset_dir / "annotations.tsv").open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    clips = []
    for row in rows:
        stem = Path(row["file"]).stem  # gtzan.blues.00000
        if row["source"] == "gtzan":
            clips.append(
                ("gtzan_" + stem.removeprefix("gtzan.").replace(".", "_"), realset_dir / row["file"])
            )
    return clips


def reference(gdir: Path, commit: str, name: str, start_s: float, length_s: float) -> Reference:
    return parse_beats(realset.blob(gdir, commit, f"beats/{name}.beats").decode(), start_s, length_s)


def parse_beats(text: str, start_s: float, length_s: float) -> Reference:
    """A GTZAN-Rhythm .beats file cut to the excerpt [start_s, start_s + length_s], times from its start."""
    rows = np.array([[float(v) for v in line.split()[:2]] for line in text.splitlines() if line.strip()])
    times, numbers = rows[:, 0] - start_s, rows[:, 1].astype(int)
    inside = (times >= 0.0) & (times <= length_s)
    return Reference(times[inside], times[inside & (numbers == 1)], int(numbers.max()))


def cached(name: str, path: Path) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(BeatNet activations, librosa's beats from the excerpt's start, excerpt start, excerpt length)."""
    from worker.music import beatnet

    file = CACHE / beatnet.onnx_path().stem / f"{name}.npz"
    if file.exists():
        with np.load(file) as data:
            return data["activations"], data["librosa_beats"], float(data["start_s"]), float(data["length_s"])
    import librosa

    from worker.audio.decode import load_audio

    audio = load_audio(path)
    activations = beatnet.activations(audio.samples, audio.sample_rate)
    start_s, length_s = audio.excerpt_start_s, len(audio.samples) / audio.sample_rate
    y, sr = librosa.load(path)  # the baseline as bench/accuracy.py runs it: defaults, 22.05 kHz
    _, frames = librosa.beat.beat_track(y=y, sr=sr)
    librosa_beats = librosa.frames_to_time(frames, sr=sr) - start_s
    librosa_beats = librosa_beats[(librosa_beats >= 0.0) & (librosa_beats <= length_s)]
    file.parent.mkdir(parents=True, exist_ok=True)
    np.savez(file, activations=activations, librosa_beats=librosa_beats, start_s=start_s, length_s=length_s)
    return activations, librosa_beats, start_s, length_s


def guesses(activations: np.ndarray, librosa_beats: np.ndarray) -> dict[str, Guess]:
    from worker.music import beatnet, beats

    found = beats.from_activations(activations)
    frames = np.round(found.beats * beatnet.FPS).astype(int)
    free, first = beats.bar(activations[:, 1], frames, three_margin=0.0)
    return {
        "librosa, every 4th": Guess(librosa_beats, librosa_beats[::4], 4),
        "learned, every 4th": Guess(found.beats, found.beats[::4], 4),
        "learned + bar, 3 or 4 free": Guess(
            found.beats, found.beats[first::free] if free else np.zeros(0), free
        ),
        "learned + bar (shipped)": Guess(found.beats, found.downbeats, found.beats_per_bar),
    }


def f_measure(reference_times: np.ndarray, estimated: np.ndarray) -> float:
    import mir_eval

    ref, est = mir_eval.beat.trim_beats(reference_times), mir_eval.beat.trim_beats(estimated)
    if len(ref) == 0:
        return float("nan")
    return float(mir_eval.beat.f_measure(ref, est))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--realset", type=Path, default=realset.DEFAULT_OUT, help="restored set")
    parser.add_argument("--mirror", type=Path, default=realset.DEFAULT_MIRROR, help="snapshots' folder")
    args = parser.parse_args()
    gdir = realset.git_dir(args.mirror, realset.ANNOTATIONS["gtzan_tempo"])
    commit = realset.head(gdir)
    rows: dict[str, list[tuple[str, float, float, int, int | None]]] = {}
    for name, path in gtzan_clips(args.realset):
        activations, librosa_beats, start_s, length_s = cached(name, path)
        ref = reference(gdir, commit, name, start_s, length_s)
        group = "classical" if "_classical_" in name else "other genres"
        for method, guess in guesses(activations, librosa_beats).items():
            rows.setdefault(method, []).append(
                (
                    group,
                    f_measure(ref.beats, guess.beats),
                    f_measure(ref.downbeats, guess.downbeats),
                    ref.beats_per_bar,
                    guess.beats_per_bar,
                )
            )
    groups = sorted({row[0] for rows_ in rows.values() for row in rows_})
    print(f"GTZAN clips of the development set; GTZAN-Rhythm annotations at {commit[:7]}")
    print(
        f"{'method':<28}{'clips':<14}{'n':>4}{'beat F':>8}{'downbeat F':>12}{'bar right':>11}"
        f"{'in 3':>8}{'in 4':>8}{'no bar':>8}"
    )

    def share(chosen: list[tuple[str, float, float, int, int | None]], meter: int) -> str:
        annotated = [row for row in chosen if row[3] == meter]
        right = sum(row[4] == meter for row in annotated)
        return f"{right}/{len(annotated)}"

    for method, method_rows in rows.items():
        for group in [*groups, "all"]:
            chosen = [row for row in method_rows if group in ("all", row[0])]
            beat_f = np.nanmean([row[1] for row in chosen])
            downbeat_f = np.nanmean([row[2] for row in chosen])
            right = np.mean([row[3] == row[4] for row in chosen])
            none = sum(row[4] is None for row in chosen)
            print(
                f"{method:<28}{group:<14}{len(chosen):>4}{beat_f:>8.3f}{downbeat_f:>12.3f}"
                f"{right:>10.0%}{share(chosen, 3):>8}{share(chosen, 4):>8}{none:>8}"
            )


if __name__ == "__main__":
    main()
