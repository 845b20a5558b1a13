from __future__ import annotations

import io
from pathlib import Path

import librosa
import matplotlib
import numpy as np
import pytest
from PIL import Image

from worker.audio import features, spectrogram


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


def _magma_ends() -> tuple[np.ndarray, np.ndarray]:
    """The first and the last of matplotlib's 256 "magma" colours, as RGB bytes."""
    bottom, top = matplotlib.colormaps["magma"]([0.0, 1.0], bytes=True)[:, :3]
    return bottom, top


def _picture(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        image.verify()  # a well-formed PNG: chunks and checksums
    with Image.open(path) as image:
        assert image.format == "PNG"
        return np.asarray(image.convert("RGB"))


def test_loud_bins_are_the_top_colour_low_bands_at_the_bottom_early_frames_on_the_left(
    tmp_path: Path,
) -> None:
    db = np.full((600, 96), -spectrogram.TOP_DB, np.float32)
    db[:300, :48] = 0.0  # the first half of the frames, in the lower half of the bands, is loudest

    pixels = _picture(spectrogram.render_db_png(db, tmp_path / "quadrant.png"))

    silent, loud = (np.all(pixels == colour, axis=2) for colour in _magma_ends())
    # The image: the columns made of those two colours (the colour bar has a pixel or two of each).
    columns = np.flatnonzero((silent | loud).sum(axis=0) > 100)
    rows = np.flatnonzero((silent | loud)[:, columns].all(axis=1))
    assert pixels.shape == (400, 1000, 3)
    assert len(columns) > 600
    assert len(rows) > 250
    assert np.array_equal(columns, np.arange(columns[0], columns[-1] + 1))  # one block
    image = loud[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
    assert (image | silent[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]).all()
    height, width = image.shape
    assert image[height // 2 + 1 :, : width // 2 - 1].all()  # lower left: loud
    assert not image[: height // 2 - 1].any()  # upper half (high bands): silent
    assert not image[:, width // 2 + 1 :].any()  # right half (late frames): silent


def test_nothing_is_drawn_to_the_edge_of_the_picture(tmp_path: Path, mel) -> None:
    # Long time labels (a late start with fractional ticks) must still fit inside.
    pixels = _picture(spectrogram.render_png(mel[:120], tmp_path / "late.png", start_s=1234.5))

    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    assert (border == 255).all()
    assert (pixels < 128).any(axis=2).sum() > 2_000  # and there is text and a frame inside


def test_other_band_counts_and_sample_rates_draw_too(tmp_path: Path) -> None:
    db = np.linspace(-spectrogram.TOP_DB, 0.0, 50 * 40, dtype=np.float32).reshape(50, 40)

    pixels = _picture(spectrogram.render_db_png(db, tmp_path / "small.png", sample_rate=8_000))

    assert pixels.shape == (400, 1000, 3)
    for colour in _magma_ends():
        assert np.all(pixels == colour, axis=2).sum() > 100


@pytest.mark.parametrize(("n_mels", "sample_rate"), [(96, 16_000), (128, 22_050), (40, 8_000), (20, 1_600)])
def test_band_centres_are_librosas_mel_frequencies(n_mels: int, sample_rate: int) -> None:
    expected = librosa.mel_frequencies(n_mels=n_mels + 2, fmin=0.0, fmax=sample_rate / 2)[1:-1]

    np.testing.assert_allclose(spectrogram.mel_band_hz(n_mels, sample_rate), expected, rtol=1e-9)


def test_time_ticks_are_round_steps_inside_the_clip_with_matching_decimals() -> None:
    ticks = spectrogram._ticks(42.0, 72.016)
    assert ticks.min() >= 42.0
    assert ticks.max() <= 72.016
    assert len(set(np.diff(ticks).round(9))) == 1  # evenly spaced
    assert spectrogram._tick_labels(ticks) == [f"{int(t)}" for t in ticks]

    assert spectrogram._tick_labels(np.array([12.0, 12.5, 13.0])) == ["12.0", "12.5", "13.0"]
    assert spectrogram._tick_labels(np.array([1234.5, 1234.75])) == ["1234.50", "1234.75"]
