"""Cost of the learned beat front end per 30 s clip, before and after serving it on ONNX Runtime.

    .venv/bin/python bench/beats_cost.py [-n 5]

Clips are generated (worker.audio.synth: drums, bass and piano, 30 s) and resampled to the worker's
16 kHz, as load_audio gives them. Each row times one stage two ways in the same run: "before" is the
numpy reference (worker.music.beatnet.Network, one Python step per LSTM frame; the features with the
dense filterbank), "now" is what the worker runs (the ONNX graph on ONNX Runtime, one thread; the
sparse filterbank). The network rows time the network alone, on features computed beforehand. For
each it prints the median over the clips of the process CPU time (steadier on a shared machine) and
of the wall time, and the maximum CPU time. The first clip warms imports, numba and both networks and
is not counted. For each clip the "before" stages run in turn, then the "now" ones. The onset tempo
and the key alone are timed once, as a reference. The last row is the budget's figure: tempo + key as
the worker runs them now, beside the onset tempo + key it ran before the learned front end.
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

Stage = Callable[[np.ndarray, np.ndarray], object]  # (16 kHz samples, features) -> anything


def clip(seed: int) -> np.ndarray:
    import librosa

    from worker.audio import synth

    mix = synth.drums_and_bass(30.0, seed=seed) + 0.7 * synth.piano_piece(30.0, seed=seed + 1)
    return np.asarray(librosa.resample(mix, orig_sr=synth.SR, target_sr=SAMPLE_RATE), dtype=np.float32)


def resampled(samples: np.ndarray) -> np.ndarray:
    from scipy.signal import resample_poly

    return resample_poly(samples, 441, 320)  # 16 kHz to 22.05 kHz, as beatnet.activations does


def dense_features(samples: np.ndarray) -> np.ndarray:
    """The features as computed before: the same steps with the dense filterbank product."""
    import scipy.fft

    from worker.music import beatnet

    size = beatnet.FRAME_SIZE
    windowed = beatnet.frames(np.asarray(samples, dtype=np.float32)) * np.hanning(size).astype(np.float32)
    spectrum = np.abs(scipy.fft.rfft(windowed, axis=1)[:, : size >> 1]).astype(np.float32)
    log = np.log10(spectrum @ beatnet.filterbank() + 1.0, dtype=np.float32)
    diff = np.zeros_like(log)
    diff[1:] = np.maximum(log[1:] - log[:-1], 0.0)
    return np.hstack([log, diff])


def stages() -> dict[str, tuple[Stage | None, Stage]]:
    """Stage name: (before, now)."""
    from worker import analysis
    from worker.music import beatnet, beats, key, tempo

    def tempo_before(samples: np.ndarray) -> beats.BeatEstimate:
        return beats.from_activations(beatnet.network().activations(dense_features(resampled(samples))))

    return {
        "onset tempo (alone)": (None, lambda s, f: tempo.estimate(s, SAMPLE_RATE)),
        "key": (None, lambda s, f: key.estimate(s, SAMPLE_RATE)),
        "beatnet: resample + features": (
            lambda s, f: dense_features(resampled(s)),
            lambda s, f: beatnet.features(resampled(s)),
        ),
        "beatnet: network alone": (
            lambda s, f: beatnet.network().activations(f),
            lambda s, f: beatnet.runtime().activations(f),
        ),
        "beatnet: whole tempo": (lambda s, f: tempo_before(s), lambda s, f: beats.estimate(s, SAMPLE_RATE)),
        "beatnet tempo + key": (
            lambda s, f: (tempo_before(s), key.estimate(s, SAMPLE_RATE)),
            lambda s, f: (beats.estimate(s, SAMPLE_RATE), key.estimate(s, SAMPLE_RATE)),
        ),
        # The issue-24 budget (150 ms): what the worker runs per clip. Before: the onset estimator and
        # the key, as served until the learned tempo was wired in. Now: analysis.estimate_tempo (onset
        # estimator + learned decode + their fusion, confidence and bar) and estimate_key.
        "worker: tempo + key": (
            lambda s, f: (tempo.estimate(s, SAMPLE_RATE), key.estimate(s, SAMPLE_RATE)),
            lambda s, f: (analysis.estimate_tempo(s, SAMPLE_RATE), analysis.estimate_key(s, SAMPLE_RATE)),
        ),
    }


def timed(run: Stage, samples: np.ndarray, feats: np.ndarray) -> tuple[float, float]:
    """(wall, cpu) milliseconds."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    run(samples, feats)
    return (time.perf_counter() - wall0) * 1000, (time.process_time() - cpu0) * 1000


def main() -> None:
    from worker.music import beatnet

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=5, help="clips to time (default 5)")
    args = parser.parse_args()
    clips = [clip(seed) for seed in range(args.n + 1)]
    timings: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for index, samples in enumerate(clips):
        feats = beatnet.features(resampled(samples))
        for label, column in (("before", 0), ("now", 1)):
            for name, runs in stages().items():
                if (run := runs[column]) is None:
                    continue
                measured = timed(run, samples, feats)
                if index > 0:
                    timings.setdefault((name, label), []).append(measured)
    print(f"{args.n} clips of 30 s at {SAMPLE_RATE} Hz; milliseconds per clip (median over the clips)")
    print(
        f"{'stage':<30}{'cpu before':>11}{'cpu now':>9}{'wall before':>13}{'wall now':>10}{'cpu max now':>13}"
    )

    def median(name: str, label: str, column: int) -> str:
        rows = timings.get((name, label))
        return f"{np.median([row[column] for row in rows]):.0f}" if rows else "-"

    for name in stages():
        cpu_max = max(row[1] for row in timings[(name, "now")])
        print(
            f"{name:<30}{median(name, 'before', 1):>11}{median(name, 'now', 1):>9}"
            f"{median(name, 'before', 0):>13}{median(name, 'now', 0):>10}{cpu_max:>13.0f}"
        )


if __name__ == "__main__":
    main()
