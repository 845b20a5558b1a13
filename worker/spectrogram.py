"""The mel-spectrogram the model saw: saved compactly on the ML path, drawn as a PNG elsewhere.

The ML job only calls `save_mel` (numpy, about a millisecond); `render_png` (matplotlib, about 90 ms
and its memory) runs in an I/O worker from that file, so ML worker processes never import matplotlib.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import BinaryIO, NamedTuple

import numpy as np

from worker.features import HOP_LENGTH, SAMPLE_RATE

# Frequencies labelled on the mel axis.
_TICKS_HZ = (0, 256, 512, 1024, 2048, 4096, 8000)
# The picture shows 80 dB below the loudest bin; quieter is drawn as the floor.
TOP_DB = 80.0
_AMIN = 1e-10  # librosa.power_to_db's floor on power


class SavedMel(NamedTuple):
    db: np.ndarray  # (frames, mels) float32, dB relative to the loudest bin, in [-TOP_DB, 0]
    start_s: float  # where the excerpt starts in the source, for the time axis


def mel_db(mel_power: np.ndarray) -> np.ndarray:
    """(frames, mels) power → dB relative to the loudest bin, floored at -TOP_DB (librosa's
    power_to_db(ref=np.max, top_db=TOP_DB), in numpy so that the ML path needs nothing more)."""
    db = 10.0 * np.log10(np.maximum(mel_power.astype(np.float32), _AMIN))
    db -= db.max()
    return np.maximum(db, -TOP_DB)


def save_mel(mel_power: np.ndarray, path: str | Path, *, start_s: float = 0.0) -> Path:
    """Write the mel in dB as float16 (.npz) with the excerpt's start: about 350 KiB for 30 s.

    float16 keeps about 0.03 dB at -80 dB, finer than the 256 colours of the picture. Not
    compressed: zlib saves only a quarter and costs ~10 ms on the ML path, for a file that lives
    until the I/O worker has drawn it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        np.savez(fh, db=mel_db(mel_power).astype(np.float16), start_s=np.float64(start_s))
    return path


def load_mel(source: str | Path | BinaryIO) -> SavedMel:
    """Read what `save_mel` wrote (a path or an open binary file). Anything else raises ValueError."""
    try:
        data = np.load(source, allow_pickle=False)
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"not a saved mel-spectrogram: {exc}") from exc
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError("not a saved mel-spectrogram: a bare array")
    with data:
        try:
            db, start_s = data["db"], float(data["start_s"])
        except (KeyError, ValueError, TypeError, zipfile.BadZipFile) as exc:
            raise ValueError(f"not a saved mel-spectrogram: {exc}") from exc
    if db.ndim != 2 or db.shape[0] == 0 or db.shape[1] == 0:
        raise ValueError(f"not a saved mel-spectrogram: shape {db.shape}")
    return SavedMel(db.astype(np.float32), start_s)


def render_png(
    mel_power: np.ndarray, path: str | Path, *, sample_rate: int = SAMPLE_RATE, start_s: float = 0.0
) -> Path:
    """Write `mel_power` (frames, mels) as a PNG: time in seconds of the source, frequency in Hz."""
    return render_db_png(mel_db(mel_power), path, sample_rate=sample_rate, start_s=start_s)


def render_db_png(
    db: np.ndarray, path: str | Path, *, sample_rate: int = SAMPLE_RATE, start_s: float = 0.0
) -> Path:
    """Write `db` (frames, mels; see mel_db) as a PNG: time in seconds of the source, frequency in Hz."""
    import librosa
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # A bare Figure on the Agg canvas: no pyplot, so no global figure state and no display needed.
    # Fixed axes positions: a layout engine would draw the figure twice to measure it.
    figure = Figure(figsize=(10, 4), dpi=100)
    FigureCanvasAgg(figure)
    ax = figure.add_axes((0.08, 0.13, 0.80, 0.78))
    colorbar_ax = figure.add_axes((0.90, 0.13, 0.015, 0.78))
    bands = db.T
    # One image, not a mesh of 180,000 quads (librosa.display.specshow): about 4x faster to draw.
    # Rows are mel bands, so the y axis is labelled with the frequency at each band.
    end_s = start_s + bands.shape[1] * HOP_LENGTH / sample_rate
    image = ax.imshow(
        bands, origin="lower", aspect="auto", cmap="magma", interpolation="nearest",
        extent=(start_s, end_s, -0.5, bands.shape[0] - 0.5), vmin=-TOP_DB, vmax=0.0,
    )  # fmt: skip
    # The centre frequency of each mel filter (librosa spaces n_mels + 2 edges from 0 to fmax).
    band_hz = librosa.mel_frequencies(n_mels=bands.shape[0] + 2, fmin=0.0, fmax=sample_rate / 2)[1:-1]
    ticks_hz = [hz for hz in _TICKS_HZ if hz <= band_hz[-1]]
    ax.set_yticks(np.interp(ticks_hz, band_hz, np.arange(bands.shape[0])), [str(hz) for hz in ticks_hz])
    ax.set(xlabel="Time (s)", ylabel="Frequency (Hz)", title="Mel spectrogram")
    figure.colorbar(image, cax=colorbar_ax, format="%+2.0f dB")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path
