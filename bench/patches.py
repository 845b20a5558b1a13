"""Fewer patches per clip: how far the answer moves from the full 30 s, and what it saves.

    .venv/bin/python bench/patches.py [--corpus var/corpus] [--limit 0] [--counts 10,5,4,3]

musicnn reads a clip as non-overlapping 3 s patches and averages the patch outputs (10 patches for our
30 s excerpt). The model's cost is linear in the number of patches, so reading k evenly spaced patches
of the ten (`worker.audio.features.spread`) costs k/10 of the model. For every clip of an annotated folder (the
generated corpus of bench/make_corpus.py by default, or any folder with annotations.tsv) this runs the
backbone and the shipped genre head on each subset (`GenrePredictor.score_patches`, every patch of
the subset), against the ten-patch answer as the baseline. The row "seq" is the default, the predictor's own path
(`worker.backbone.sequential`: half the patches, the other half only when the top genre or the outside
verdict is in doubt):
- top genre: the share of clips whose top genre is unchanged;
- genre probabilities: the median and maximum absolute change over the seven genres;
- tags: the share of the 16-per-clip top-5 tag lists (both taggers) that are unchanged as sets;
- model CPU time per clip, measured on the subset alone (for "seq", the head's test included), and for
  "seq" the share of clips settled after the first half.
Nothing here is an accuracy claim on music: the generated corpus is synthetic, so the figures say how
stable the average is over patches of such audio; the harness takes any annotated folder of recordings.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from worker.audio import features  # noqa: E402
from worker.audio.decode import load_audio  # noqa: E402
from worker.backbone.serving import get_backbone  # noqa: E402
from worker.predictor import get_predictor  # noqa: E402


def top5(probs: np.ndarray) -> frozenset[int]:
    return frozenset(np.argsort(probs)[::-1][:5].tolist())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "var" / "corpus")
    parser.add_argument("--limit", type=int, default=0, help="first N clips only (0: all)")
    parser.add_argument(
        "--counts",
        default="10,seq,5,4,3",
        help="patches per clip to compare ('seq': the default path); the first is the baseline",
    )
    args = parser.parse_args()
    counts = args.counts.split(",")
    with (args.corpus / "annotations.tsv").open() as f:
        files = [args.corpus / row["file"] for row in csv.DictReader(f, delimiter="\t")]
    files = files[: args.limit or None]

    predictor = get_predictor()
    predictor.load(warm_up=True)
    backbone = get_backbone()
    settled = 0
    same_top = {k: 0 for k in counts}
    same_tags = {k: 0 for k in counts}
    changes: dict[str, list[float]] = {k: [] for k in counts}
    cpu: dict[str, list[float]] = {k: [] for k in counts}
    for path in files:
        audio = load_audio(path)
        feats = features.extract(audio.samples, audio.sample_rate)
        answers = {}
        for k in counts:
            started = time.process_time()
            if k == "seq":
                output, probs, read = predictor.score_patches(feats.patches, early_exit=True)
                settled += int(read < len(feats.patches))
            else:
                patches = features.spread(feats.patches, int(k))
                output, probs, _ = predictor.score_patches(patches, early_exit=False)
            cpu[k].append(time.process_time() - started)
            answers[k] = (probs, output)
        base_probs, base_out = answers[counts[0]]
        for k, (probs, out) in answers.items():
            same_top[k] += int(np.argmax(probs) == np.argmax(base_probs))
            changes[k].append(float(np.max(np.abs(probs - base_probs))))
            same_tags[k] += int(top5(out.msd) == top5(base_out.msd)) + int(
                top5(out.mtt) == top5(base_out.mtt)
            )

    n = len(files)
    print(f"clips: {n} from {args.corpus} (synthetic unless you pointed it at recordings)")
    print(f"runtime: {backbone.runtime}; baseline: {counts[0]} patches per clip")
    header = f"{'patches':>7} {'same top genre':>15} {'median |dp|':>12} {'max |dp|':>9} {'same top-5 tags':>16} {'model CPU ms':>13} {'ratio':>6} {'mean ms':>8}"
    print(header)
    print("-" * len(header))
    base_cpu = float(np.median(cpu[counts[0]]))
    for k in counts:
        med_cpu = float(np.median(cpu[k]))
        print(
            f"{k:>7} {same_top[k] / n:>15.3f} {np.median(changes[k]):>12.4f} {np.max(changes[k]):>9.4f}"
            f" {same_tags[k] / (2 * n):>16.3f} {1000 * med_cpu:>13.0f} {med_cpu / base_cpu:>6.2f}"
            f" {1000 * float(np.mean(cpu[k])):>8.0f}"
        )
    if "seq" in counts:
        print(
            f"seq: {settled} of {n} clips ({settled / n:.0%}) were settled after the first half of their patches"
        )


if __name__ == "__main__":
    main()
