"""Inference benchmark for the genre model: cold start and warm per-clip costs on 30 s clips.

    .venv/bin/python bench/inference.py [-n 20] [--format mp3] [--spectrogram]

Cold start = import of the pipeline + model load + first prediction, in this fresh process. Warm
figures are per clip over the next N predictions (median and p95 of each stage), from the
predictor's own timings. The clips are synthetic (drums and bass, piano) 30 s files written first.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from worker import synth  # noqa: E402  (numpy only: cheap, and outside the timed import)

STAGES = ("decode", "features", "model", "analysis", "spectrogram", "total")


def write_clips(folder: Path, n: int, fmt: str) -> list[Path]:
    paths = []
    for i in range(n):
        make = synth.drums_and_bass if i % 2 == 0 else synth.piano_piece
        path = folder / f"clip{i:03d}.{fmt}"
        sf.write(path, make(30.0, seed=i), synth.SR, format=fmt.upper())
        paths.append(path)
    return paths


def summarise(timings: list[dict[str, float]]) -> dict[str, tuple[float, float]]:
    out = {}
    for stage in STAGES:
        values = [t[stage] for t in timings if stage in t]
        if values:
            out[stage] = (float(np.median(values)), float(np.percentile(values, 95)))
    return out


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=20, help="warm clips (default 20)")
    parser.add_argument("--format", default="mp3", choices=["mp3", "wav", "flac", "ogg"])
    parser.add_argument("--spectrogram", action="store_true", help="also render the PNG per clip")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clips = write_clips(folder, args.n + 1, args.format)

        def png(i: int) -> Path | None:
            return folder / f"{i}.png" if args.spectrogram else None

        start = time.perf_counter()
        from worker.predictor import get_predictor

        predictor = get_predictor()
        first = predictor.predict(clips[0], spectrogram_png=png(0))
        cold = time.perf_counter() - start

        warm_start = time.perf_counter()
        timings = [
            predictor.predict(path, spectrogram_png=png(i)).timings for i, path in enumerate(clips[1:])
        ]
        warm_wall = time.perf_counter() - warm_start

    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"model: {first.model_name} {first.model_version}; clips: {args.n} x 30 s {args.format}")
    print(f"cold start (import + load + first prediction): {cold:.2f} s")
    print(f"{'stage':<12} {'median ms':>10} {'p95 ms':>10}")
    for stage, (median, p95) in summarise(timings).items():
        print(f"{stage:<12} {median * 1000:>10.1f} {p95 * 1000:>10.1f}")
    print(f"throughput: {args.n / warm_wall:.2f} clips/s (one process)")
    print(f"peak RSS: {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
