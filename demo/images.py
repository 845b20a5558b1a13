"""Waveform pictures for the demo sounds (Freesound shows one per sound), drawn from the audio."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import soundfile as sf

WIDTH, HEIGHT = 240, 60
BACKGROUND = (238, 239, 253)  # the site's brand-soft tint
INK = (79, 70, 229)


def waveform_png(audio_bytes: bytes, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """The peak envelope of the audio, column by column, as an RGB PNG."""
    audio, _ = sf.read(io.BytesIO(audio_bytes), dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    columns = np.array_split(np.abs(mono), width) if len(mono) >= width else [mono] * width
    peaks = np.array([float(c.max()) if len(c) else 0.0 for c in columns])
    peaks = peaks / max(float(peaks.max()), 1e-6)
    half = (height - 2) / 2
    rows = np.abs(np.arange(height) - (height - 1) / 2)[:, None]  # distance from the centre line
    ink = rows <= np.maximum(peaks[None, :] * half, 0.5)
    image = np.where(ink[..., None], np.array(INK, np.uint8), np.array(BACKGROUND, np.uint8))
    return png(image.astype(np.uint8))


def png(rgb: np.ndarray) -> bytes:
    height, width, _ = rgb.shape

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )
