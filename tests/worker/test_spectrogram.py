from __future__ import annotations

import io
from pathlib import Path

import librosa
import numpy as np
import pytest

from worker import features, spectrogram


@pytest.fixture(scope="module")
def mel() -> np.ndarray:
    samples = np.random.default_rng(0).uniform(-0.3, 0.3, 5 * 16_000).astype(np.float32)
    return features.mel_power(samples)


def test_render_png_writes_a_png_without_a_display(tmp_path: Path, mel) -> None:
    path = spectrogram.render_png(mel, tmp_path / "sub" / "spec.png", start_s=12.0)

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000


def test_mel_db_is_librosas_power_to_db_relative_to_the_loudest_bin(mel) -> None:
    expected = librosa.power_to_db(mel, ref=np.max, top_db=spectrogram.TOP_DB)

    np.testing.assert_allclose(spectrogram.mel_db(mel), expected, atol=1e-3)


def test_a_saved_mel_reads_back_within_float16_precision_with_its_start(tmp_path: Path, mel) -> None:
    path = spectrogram.save_mel(mel, tmp_path / "sub" / "mel.npz", start_s=12.5)

    saved = spectrogram.load_mel(path)

    assert saved.start_s == 12.5
    assert saved.db.shape == mel.shape
    assert saved.db.dtype == np.float32
    np.testing.assert_allclose(saved.db, spectrogram.mel_db(mel), atol=0.05)  # dB
    assert path.stat().st_size < 0.6 * mel.nbytes  # compact: float16 instead of float32


def test_a_saved_mel_draws_the_same_picture_size_as_the_power(tmp_path: Path, mel) -> None:
    saved = spectrogram.load_mel(spectrogram.save_mel(mel, tmp_path / "mel.npz", start_s=3.0))

    png = spectrogram.render_db_png(saved.db, tmp_path / "from-mel.png", start_s=saved.start_s).read_bytes()

    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == (1000, 400)


@pytest.mark.parametrize("junk", [b"", b"not numpy at all", b"PK\x03\x04 truncated zip"])
def test_anything_else_is_refused_with_a_value_error(junk: bytes) -> None:
    with pytest.raises(ValueError, match="not a saved mel-spectrogram"):
        spectrogram.load_mel(io.BytesIO(junk))


def test_a_saved_array_of_the_wrong_shape_is_refused() -> None:
    buffer = io.BytesIO()
    np.savez(buffer, db=np.zeros(5, np.float16), start_s=np.float64(0))
    buffer.seek(0)
    with pytest.raises(ValueError, match="shape"):
        spectrogram.load_mel(buffer)
