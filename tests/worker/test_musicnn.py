"""The TF2 re-implementation against the TF1 graph shipped in the musicnn wheel."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from worker.audio import features, synth
from worker.backbone import musicnn

pytestmark = pytest.mark.model


def reference_outputs(model: str, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run the wheel's own graph (.meta) with its checkpoint, in a TF1 session (tests only)."""
    import tensorflow as tf
    from tensorflow.core.protobuf import meta_graph_pb2

    prefix = musicnn.checkpoint_prefix(model)
    meta = meta_graph_pb2.MetaGraphDef()
    meta.ParseFromString(open(prefix + ".meta", "rb").read())  # noqa: SIM115
    for node in meta.graph_def.node:
        node.attr.pop("_output_shapes", None)  # stale shape hints make TF 2.21's importer refuse the graph
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(meta.graph_def, name="")
        with tf.compat.v1.Session(graph=graph) as session:
            session.run("save/restore_all", {"save/Const:0": prefix})
            fetches = ["model/Sigmoid:0", "model/batch_normalization_10/batchnorm/add_1:0"]
            return session.run(fetches, {"model/Placeholder:0": patches, "model/Placeholder_2:0": False})


@pytest.fixture(scope="module")
def music_patches() -> np.ndarray:
    """Real-shaped input: the log-mel patches of 30 s of synthetic drums, bass and piano."""
    mix = synth.drums_and_bass(30.0, seed=3) + 0.7 * synth.piano_piece(30.0, seed=4)
    samples = librosa.resample(mix, orig_sr=synth.SR, target_sr=16_000)
    return features.extract(samples).patches


@pytest.mark.parametrize(("model", "column"), [("MSD_musicnn", 0), ("MTT_musicnn", 1)])
def test_backbone_matches_the_reference_graph(
    predictor, music_patches: np.ndarray, model: str, column: int
) -> None:
    from worker.backbone.serving import get_backbone

    ours = get_backbone("tensorflow").patch_outputs(music_patches)
    ref_probs, ref_penultimate = reference_outputs(model, music_patches)

    assert music_patches.shape == (10, 187, 96)
    np.testing.assert_allclose(ours[column], ref_probs, atol=1e-4)
    np.testing.assert_allclose(ours[2][:, 200 * column : 200 * (column + 1)], ref_penultimate, atol=1e-3)


def test_load_weights_skips_optimizer_state() -> None:
    weights = musicnn.load_weights("MSD_musicnn")

    assert not any("Adam" in name or name.startswith("beta") for name in weights)
    assert weights["conv2d/kernel"].shape == (7, 38, 1, 204)
    assert (
        sum(w.size for w in weights.values()) == 792_079
    )  # as musicnn.md counts, moving statistics included


def test_bfloat16_backbone_stays_close_to_the_reference(music_patches: np.ndarray) -> None:
    fast = musicnn.Backbone("bfloat16")

    msd, mtt, _ = fast.patch_outputs(music_patches)
    ref_msd, _ = reference_outputs("MSD_musicnn", music_patches)

    np.testing.assert_allclose(msd.mean(axis=0), ref_msd.mean(axis=0), atol=1e-2)
    assert mtt.shape == (10, 50)


def test_fold_frontend_signs_keeps_kernels_up_to_sign() -> None:
    weights = musicnn.load_weights("MTT_musicnn")

    folded = musicnn.fold_frontend_signs(weights)

    for conv, _ in musicnn.FRONTEND:
        sign = folded[f"{conv}/sign"]
        assert set(np.unique(sign)) <= {-1.0, 1.0}
        np.testing.assert_array_equal(folded[f"{conv}/kernel"] * sign, weights[f"{conv}/kernel"])
