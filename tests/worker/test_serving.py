"""The serving runtimes against the TensorFlow reference (itself checked against the wheel's TF1 graph in
test_musicnn.py), on generated clips."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from worker import model_cache
from worker.audio import features, synth
from worker.backbone import serving
from worker.backbone.musicnn import BackboneOutput

pytestmark = pytest.mark.model

# float32 exports: observed 4.8e-7 (ONNX Runtime) and 1.5e-7 (OpenVINO) on clip tag probabilities.
FP32_BOUND = 1e-5
# bfloat16 / int8: observed 3.9e-3 (openvino:bf16), 4.6e-3 (onnxruntime:int8), 7.0e-3 (openvino:int8) on an
# AVX-512 VNNI host with full-range int8 weights; on an AVX2 host those weights gave 0.13 for
# onnxruntime:int8 (saturation), which 7-bit weights (onnx_export.quantize_int8) bring back within bound.
REDUCED_BOUND = 1e-2


@pytest.fixture(scope="module")
def clips() -> list[np.ndarray]:
    """Log-mel patches of 8 generated 30 s clips: drums at three tempos, piano, a mix, minor chords."""
    signals = []
    for seed in range(3):
        signals.append(synth.drums_and_bass(30.0, seed=seed, bpm=100 + 15 * seed))
        signals.append(synth.piano_piece(30.0, seed=seed))
    signals.append(synth.drums_and_bass(30.0, seed=7) + 0.7 * synth.piano_piece(30.0, seed=8))
    signals.append(synth.chord_progression([("A", "minor"), ("D", "minor"), ("E", "major")], 30.0))
    return [
        features.extract(librosa.resample(s, orig_sr=synth.SR, target_sr=features.SAMPLE_RATE)).patches
        for s in signals
    ]


@pytest.fixture(scope="module")
def reference(clips: list[np.ndarray]) -> list[BackboneOutput]:
    tf_backbone = serving.make_backbone("tensorflow")
    return [tf_backbone(patches) for patches in clips]


def _top5(probs: np.ndarray) -> list[int]:
    return list(np.argsort(-probs, kind="stable")[:5])


def _max_difference(outputs: list[BackboneOutput], reference: list[BackboneOutput]) -> float:
    return max(
        float(np.abs(getattr(o, tagger) - getattr(r, tagger)).max())
        for o, r in zip(outputs, reference, strict=True)
        for tagger in ("msd", "mtt")
    )


FP32_RUNTIMES = ["onnxruntime:fp32", "openvino:fp32"]


@pytest.mark.parametrize("runtime", FP32_RUNTIMES)
def test_float32_runtimes_match_tensorflow(runtime: str, clips, reference) -> None:
    backbone = serving.make_backbone(runtime)

    outputs = [backbone(patches) for patches in clips]

    for out, ref in zip(outputs, reference, strict=True):
        assert _top5(out.msd) == _top5(ref.msd)
        assert _top5(out.mtt) == _top5(ref.mtt)
        np.testing.assert_allclose(out.embedding, ref.embedding, atol=1e-4)
    assert _max_difference(outputs, reference) <= FP32_BOUND


@pytest.mark.parametrize("runtime", ["onnxruntime:int8", "openvino:bf16", "openvino:int8"])
def test_reduced_precision_runtimes_stay_within_their_bound(runtime: str, clips, reference) -> None:
    """Close, but not parity as the serving default needs it: on 1 of these 16 tag lists each of them
    swaps two tags whose reference probabilities differ by less than 1e-3 (see docs/performance.md)."""
    backbone = serving.make_backbone(runtime)

    outputs = [backbone(patches) for patches in clips]

    assert _max_difference(outputs, reference) <= REDUCED_BOUND


def test_the_default_runtime_is_one_the_parity_test_covers() -> None:
    assert serving.DEFAULT_RUNTIME in FP32_RUNTIMES


def test_export_cache_is_keyed_by_weights_and_exporter(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(model_cache.CACHE_ENV, str(tmp_path))

    path = serving.onnx_path("fp32")

    assert path.parent == tmp_path
    assert serving.export_key("fp32") in path.name
    assert serving.export_key("fp32") != serving.export_key("int8")
    assert len(serving.weights_digest()) == 64


def test_unknown_runtime_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown model runtime"):
        serving.make_backbone("tflite:fp32")
