from __future__ import annotations

from pathlib import Path

import numpy as np

from worker import features, spectrogram


def test_render_png_writes_a_png_without_a_display(tmp_path: Path) -> None:
    samples = np.random.default_rng(0).uniform(-0.3, 0.3, 5 * 16_000).astype(np.float32)
    mel = features.mel_power(samples)

    path = spectrogram.render_png(mel, tmp_path / "sub" / "spec.png", start_s=12.0)

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000
