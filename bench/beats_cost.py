"""Cost of the learned beat front end per 30 s clip, beside the onset estimator and the key.

    .venv/bin/python bench/beats_cost.py [-n 5]

Clips are generated (worker.audio.synth: drums, bass and piano, 30 s) and resampled to the worker's
16 kHz, as load_audio gives them. For each stage it prints the median and the maximum over the clips
of the wall time and of the process CPU time (the CPU time is steadier on a shared machine). The
first clip warms imports, numba and the checkpoint and is not counted.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SAMPLE_RATE = 16_000


def clip(seed: int) -> np.ndarray:
    import librosa

    from worker.audio import synth

    mix = synth.drums_and_bass(30.0, seed=seed) + 0.7 * synth.piano_piece(30.0, seed=seed + 1)
    return np.asarray(librosa.resample(mix, orig_sr=synth.SR, target_sr=SAMPLE_RATE), dtype=np.float32)


def stages() -> dict[str, Callable[[np.ndarray], object]]:
    from scipy.signal import resample_poly

    from worker.music import beatnet, beats, key, tempo

    def features(samples: np.ndarray) -> object:
        return beatnet.features(resample_poly(samples, 441, 320))

    def network(samples: np.ndarray) -> object:
        return beatnet.network().activations(beatnet.features(resample_poly(samples, 441, 320)))

    return {
        "onset tempo (shipped)": lambda s: tempo.estimate(s, SAMPLE_RATE),
        "key (shipped)": lambda s: key.estimate(s, SAMPLE_RATE),
        "beatnet: resample + features": features,
        "beatnet: + network": network,
        "beatnet: whole tempo": lambda s: beats.estimate(s, SAMPLE_RATE),
        "beatnet tempo + key": lambda s: (beats.estimate(s, SAMPLE_RATE), key.estimate(s, SAMPLE_RATE)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=5, help="clips to time (default 5)")
    args = parser.parse_args()
    clips = [clip(seed) for seed in range(args.n + 1)]
    timings: dict[str, list[tuple[float, float]]] = {}
    for index, samples in enumerate(clips):
        for name, run in stages().items():
            wall0, cpu0 = time.perf_counter(), time.process_time()
            run(samples)
            if index > 0:
                timings.setdefault(name, []).append((time.perf_counter() - wall0, time.process_time() - cpu0))
    print(f"{args.n} clips of 30 s at {SAMPLE_RATE} Hz; milliseconds per clip")
    print(f"{'stage':<32}{'wall median':>12}{'wall max':>10}{'cpu median':>12}{'cpu max':>10}")
    for name, rows in timings.items():
        wall = np.array([row[0] for row in rows]) * 1000
        cpu = np.array([row[1] for row in rows]) * 1000
        print(
            f"{name:<32}{np.median(wall):>12.0f}{wall.max():>10.0f}{np.median(cpu):>12.0f}{cpu.max():>10.0f}"
        )


if __name__ == "__main__":
    main()
