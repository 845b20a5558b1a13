"""Generated audio for the fakes' preview links: real, decodable WAV, and file headers for the rest."""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache

import numpy as np
import soundfile as sf


@cache
def sine_wav(seconds: float = 3.0, freq: float = 440.0, sr: int = 22050) -> bytes:
    t = np.arange(int(seconds * sr)) / sr
    wave = (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, wave, sr, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def fake_m4a(size: int = 4096) -> bytes:
    """An MP4 'ftyp' box followed by filler: enough for content sniffing (iTunes previews are AAC in .m4a)."""
    header = b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom\x00\x00\x00\x00"
    return header + b"\x00" * (size - len(header))


@cache
def png_square(rgb: tuple[int, int, int] = (99, 102, 241), size: int = 8) -> bytes:
    """A small solid PNG for artist pictures and album covers."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(rgb) * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )
