"""What the two musicnn VGG taggers would add: parameters and multiply-accumulates per 3 s patch.

    .venv/bin/python bench/taggers_cost.py

Counted from the wheel's checkpoints (kernel shapes) and the published architectures (musicnn
0.1.0 models.py: the musicnn front/mid/back ends, and vgg = five 3x3 conv + batch-norm + max-pool
blocks over the 187x96 patch, then a dense layer), beside the ROC-AUC each tagger reports in its
experiment.result. Nothing is run, so the figures do not depend on the machine's load. Run time
scales with the MACs only roughly (the VGG convolutions are small and memory bound).
"""

from __future__ import annotations

import re
import sys
from importlib.resources import files
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TAGGERS = ("MSD_musicnn", "MTT_musicnn", "MSD_vgg", "MTT_vgg")
T, F = 187, 96


def shapes(model: str) -> dict[str, tuple[int, ...]]:
    import tensorflow as tf

    reader = tf.compat.v1.train.NewCheckpointReader(str(Path(str(files("musicnn"))) / model) + "/")
    return {
        name: tuple(shape)
        for name, shape in reader.get_variable_to_shape_map().items()
        if "Adam" not in name and not name.startswith("beta")
    }


def musicnn_macs(s: dict[str, tuple[int, ...]]) -> int:
    """Front end (timbral convs over valid frequency positions, temporal convs), mid end, back end."""
    macs = 0
    for i in range(5):
        kt, kf, cin, cout = s[f"conv2d{'' if i == 0 else f'_{i}'}/kernel"]
        freq_positions = F - kf + 1  # timbral kernels are VALID in frequency; temporal kf = 1
        macs += T * freq_positions * kt * kf * cin * cout
    for i in (5, 6, 7):
        kt, kf, cin, cout = s[f"conv2d_{i}/kernel"]
        macs += T * kt * kf * cin * cout
    for name in ("dense/kernel", "dense_1/kernel"):
        macs += int(np.prod(s[name]))
    return macs


def vgg_macs(s: dict[str, tuple[int, ...]]) -> int:
    """Five SAME 3x3 convs; pools (4,1)/(2,2) stride 2, then (2,2) x3 and (4,4); then the dense layer."""
    convs = sorted((n for n in s if re.match(r"\dCNN/kernel", n)), key=lambda n: n[0])
    t, f, macs = T, F, 0
    pools = [((4, 1), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((4, 4), (4, 4))]
    for name, (pool, stride) in zip(convs, pools, strict=True):
        kt, kf, cin, cout = s[name]
        macs += t * f * kt * kf * cin * cout
        t, f = (t - pool[0]) // stride[0] + 1, (f - pool[1]) // stride[1] + 1
    dense = next(n for n in s if n.startswith("dense") and n.endswith("kernel"))
    return macs + int(np.prod(s[dense]))


def served_macs() -> int:
    """MACs per 3 s patch of the taggers the site serves (worker.backbone.musicnn.MODELS); imports TensorFlow."""
    from worker.backbone.musicnn import MODELS

    return sum(musicnn_macs(shapes(model)) for model in MODELS)


def auc(model: str) -> str:
    text = (Path(str(files("musicnn"))) / model / "experiment.result").read_text(errors="replace")
    found = re.findall(r"AUC:\s*([0-9.]+)", text)
    return found[0][:5] if found else "?"


def main() -> None:
    rows = []
    for model in TAGGERS:
        s = shapes(model)
        params = sum(int(np.prod(v)) for v in s.values())
        macs = vgg_macs(s) if model.endswith("vgg") else musicnn_macs(s)
        rows.append((model, params, macs, auc(model)))
    base = sum(r[2] for r in rows[:2])
    print(f"{'tagger':<14}{'parameters':>12}{'MMACs/patch':>14}{'ROC-AUC':>10}")
    for model, params, macs, score in rows:
        print(f"{model:<14}{params:>12,}{macs / 1e6:>14.0f}{score:>10}")
    total = sum(r[2] for r in rows)
    print(
        f"\nserved today (MSD_musicnn + MTT_musicnn): {base / 1e6:.0f} MMACs per patch, {10 * base / 1e9:.1f} GMACs per 30 s clip"
    )
    print(
        f"all four taggers: {total / 1e6:.0f} MMACs per patch, x{total / base:.2f} the compute of today's two"
    )


if __name__ == "__main__":
    main()
