from __future__ import annotations

import numpy as np
import pytest

from worker.audio import features


def test_extract_gives_ten_float32_patches_for_thirty_seconds() -> None:
    samples = np.random.default_rng(0).uniform(-0.5, 0.5, 30 * 16_000).astype(np.float32)

    feats = features.extract(samples)

    assert feats.log_mel.shape == (1876, 96)
    assert feats.patches.shape == (10, 187, 96)
    assert feats.patches.dtype == np.float32
    assert feats.log_mel.dtype == np.float32
    assert feats.mel_power.shape == (1876, 96)


def test_extract_gives_one_patch_for_three_seconds() -> None:
    samples = np.random.default_rng(1).uniform(-0.5, 0.5, 3 * 16_000).astype(np.float32)

    assert features.extract(samples).patches.shape == (1, 187, 96)


def test_to_patches_repeat_pads_input_shorter_than_a_patch() -> None:
    log_mel = np.arange(100 * 96, dtype=np.float32).reshape(100, 96)

    patches = features.to_patches(log_mel)

    assert patches.shape == (1, 187, 96)
    np.testing.assert_array_equal(patches[0, 100:], log_mel[:87])


def test_log_compress_stays_finite_on_loud_music_where_float16_overflows() -> None:
    loud = np.array([[0.5, 50.0, 900.0]], dtype=np.float32)

    with np.errstate(over="ignore"):
        musicnn_original = np.log10(10000 * loud.astype(np.float16) + 1)
    ours = features.log_compress(loud)

    assert np.isinf(musicnn_original).any()  # the bug this guards against
    assert np.isfinite(ours).all()
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, np.log10(10000 * loud.astype(np.float64) + 1), rtol=1e-3)


def test_mel_power_refuses_other_sample_rates() -> None:
    with pytest.raises(ValueError, match="16000"):
        features.mel_power(np.zeros(22_050, dtype=np.float32), 22_050)
