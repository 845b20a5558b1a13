"""Recognise audio by its first bytes, never by name or Content-Type (both are easy to fake)."""

from __future__ import annotations

HEAD_BYTES = 64

FORMAT_LABELS = {
    "mp3": "MP3",
    "wav": "WAV",
    "flac": "FLAC",
    "ogg": "OGG",
    "m4a": "M4A",
    "aac": "AAC",
}


def detect_audio_format(head: bytes) -> str | None:
    """'mp3', 'wav', 'flac', 'ogg', 'm4a', 'aac', or None when the bytes are not one of those."""
    if head.startswith(b"ID3"):
        return "mp3"  # an ID3v2 tag precedes MPEG audio
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"OggS"):
        return "ogg"
    if head[4:8] == b"ftyp":
        return "m4a"
    return _frame_sync(head)


def _frame_sync(head: bytes) -> str | None:
    """MPEG audio frames and ADTS (raw AAC) both start with 11-12 set bits; the layer tells them apart."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    version = (head[1] >> 3) & 0b11
    layer = (head[1] >> 1) & 0b11
    if layer == 0:
        # ADTS: 12 sync bits, layer 00; the sampling-frequency index 13-15 is invalid.
        is_adts = head[1] & 0xF0 == 0xF0 and (head[2] >> 2) & 0xF < 13
        return "aac" if is_adts else None
    bitrate = head[2] >> 4
    sample_rate = (head[2] >> 2) & 0b11
    if version == 0b01 or bitrate == 0xF or sample_rate == 0b11:
        return None  # reserved values: not a real frame header
    return "mp3"
