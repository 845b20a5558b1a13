"""Cost of the genre heads alone, per clip, on stored-style backbone outputs (no audio, no backbone).

    .venv/bin/python bench/heads.py [-n 2000]

Prints the median time of musicnn-zeroshot-7 1.0.0 (the baseline), musicnn-logodds-7 2.0.0 with its
outside detector, and a few-shot prototype version over it (built here from 70 random examples).
Figures on a shared machine are noisy; the backbone's cost is in bench/inference.py.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from worker.backbone.musicnn import BackboneOutput  # noqa: E402
from worker.heads import fewshot  # noqa: E402
from worker.heads.genre_head import ZEROSHOT_ARTIFACT_DIR, head_outside, load_artifact, load_head  # noqa: E402
from worker.heads.logodds import LOGODDS_ARTIFACT_DIR  # noqa: E402


def random_output(rng: np.random.Generator) -> BackboneOutput:
    emb = rng.standard_normal(400)
    return BackboneOutput(rng.uniform(0, 0.6, 50), rng.uniform(0, 0.6, 50), emb, emb[None, :])


def median_us(head, outputs: list[BackboneOutput]) -> float:
    times = []
    for output in outputs:
        start = time.perf_counter()
        probs = head.predict(output, np.zeros((0, 187, 96)))
        head_outside(head, output, probs)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e6)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=2000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    outputs = [random_output(rng) for _ in range(args.n)]
    labels = list(load_artifact(LOGODDS_ARTIFACT_DIR).labels)
    with tempfile.TemporaryDirectory() as tmp:
        examples = [
            fewshot.Example(labels[i % 7], fewshot.backbone_to_dict(random_output(rng))) for i in range(70)
        ]
        prototype = fewshot.build_prototype_artifact(
            Path(tmp), load_artifact(LOGODDS_ARTIFACT_DIR), examples, name="bench", version="0"
        )
        heads = {
            "musicnn-zeroshot-7 1.0.0 (baseline)": load_head(load_artifact(ZEROSHOT_ARTIFACT_DIR)),
            "musicnn-logodds-7 2.0.0": load_head(load_artifact(LOGODDS_ARTIFACT_DIR)),
            "few-shot over 2.0.0 (70 examples)": load_head(prototype),
        }
        print(f"{'head (scores + outside verdict)':<40}{'median µs/clip':>16}")
        for name, head in heads.items():
            print(f"{name:<40}{median_us(head, outputs):>16.0f}")


if __name__ == "__main__":
    main()
