"""Evaluate the genre artifacts side by side on a generated (SYNTHETIC) labelled set.

    .venv/bin/python bench/genre_eval_synthetic.py [--per-genre 4] [--out var/evaluations/synthetic]

Writes DIR/classical (piano pieces, strummed chords), DIR/dance (four-on-the-floor drums and bass at
118-130 BPM) and DIR/outside (click tracks, noise) from worker/audio/synth.py, then runs
`manage.py evaluate_genre_model` with the shipped artifacts (musicnn-logodds-7 2.0.0 and
musicnn-zeroshot-7 1.0.0). Synthetic signals are not music: the figures check the pipeline and show
the report's shape, including the reliability diagram; they say nothing about accuracy on songs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from worker.audio import synth  # noqa: E402
from worker.heads.genre_head import DEFAULT_ARTIFACT_DIR, ZEROSHOT_ARTIFACT_DIR  # noqa: E402

CHORDS = [("C", "major"), ("A", "minor"), ("F", "major"), ("G", "major")]


def write_set(folder: Path, per_genre: int, seconds: float = 30.0) -> Path:
    rng = np.random.default_rng(7)
    clips: dict[str, list[np.ndarray]] = {"classical": [], "dance": [], "outside": []}
    for i in range(per_genre):
        clips["classical"].append(
            synth.piano_piece(seconds, seed=i) if i % 2 == 0 else synth.chord_progression(CHORDS, seconds)
        )
        clips["dance"].append(synth.drums_and_bass(seconds, bpm=118.0 + 4 * i, seed=i))
        clips["outside"].append(
            synth.click_track(90.0 + 10 * i, seconds)
            if i % 2 == 0
            else 0.1 * rng.standard_normal(int(seconds * synth.SR))
        )
    for genre, signals in clips.items():
        (folder / genre).mkdir(parents=True, exist_ok=True)
        for i, x in enumerate(signals):
            sf.write(folder / genre / f"{genre}{i:02d}.wav", np.asarray(x, np.float32), synth.SR)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-genre", type=int, default=4)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "evaluations" / "synthetic")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sevenfour-synthetic-") as tmp:
        data = write_set(Path(tmp) / "synthetic", args.per_genre)
        cmd = [
            sys.executable, str(ROOT / "manage.py"), "evaluate_genre_model", "--data", str(data),
            "--model", str(DEFAULT_ARTIFACT_DIR), "--model", str(ZEROSHOT_ARTIFACT_DIR), "--out", str(args.out),
            "--dataset", "SYNTHETIC audio from worker/audio/synth.py (not music; no accuracy claim)",
        ]  # fmt: skip
        subprocess.run(cmd, check=True, env={**os.environ, "DEBUG": os.environ.get("DEBUG", "1")})


if __name__ == "__main__":
    main()
