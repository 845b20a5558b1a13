"""A PNG of the mel-spectrogram the model saw, drawn without a display."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from worker.features import HOP_LENGTH, SAMPLE_RATE


def render_png(
    mel_power: np.ndarray, path: str | Path, *, sample_rate: int = SAMPLE_RATE, start_s: float = 0.0
) -> Path:
    """Write `mel_power` (frames, mels) as a PNG: time in seconds of the source, frequency in Hz."""
    import librosa
    import librosa.display
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # A bare Figure on the Agg canvas: no pyplot, so no global figure state and no display needed.
    figure = Figure(figsize=(10, 4), dpi=100)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    db = librosa.power_to_db(mel_power.T, ref=np.max, top_db=80.0)
    image = librosa.display.specshow(
        db, sr=sample_rate, hop_length=HOP_LENGTH, x_axis="s", y_axis="mel", fmax=sample_rate / 2, ax=ax,
        x_coords=start_s + np.arange(db.shape[1]) * HOP_LENGTH / sample_rate, cmap="magma",
    )  # fmt: skip
    ax.set(xlabel="Time (s)", ylabel="Frequency (Hz)", title="Mel spectrogram")
    figure.colorbar(image, ax=ax, format="%+2.0f dB")
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path
