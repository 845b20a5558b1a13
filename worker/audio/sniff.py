"""The one content sniffer: name an audio container from a file's bytes, never from its name.

Used by the upload form and the API (catalog.uploads), the preview downloader and the decoder
(worker.audio.decode), so a file the site accepts is a file the decoder reads the same way. Each
container maps to exactly one ffmpeg demuxer, which the decoder passes with `-f`: ffmpeg never
guesses the format of an upload, so a playlist or manifest disguised as audio (an HLS or DASH
file behind an ID3 tag) can never make it open other files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

HEAD_BYTES = 64
# An ID3v2 tag may be followed by padding or by a second tag before the first audio frame; real
# encoders put the frame right after them, so a short search window is enough.
AFTER_TAG_SEARCH_BYTES = 8 * 1024
MAX_ID3_TAGS = 4


@dataclass(frozen=True)
class Container:
    label: str  # what users are told we accept
    mime_type: str  # what the audio is served as
    demuxer: str  # the ffmpeg demuxer forced with -f


CONTAINERS: dict[str, Container] = {
    "mp3": Container("MP3", "audio/mpeg", "mp3"),
    "wav": Container("WAV", "audio/wav", "wav"),
    "flac": Container("FLAC", "audio/flac", "flac"),
    "ogg": Container("OGG", "audio/ogg", "ogg"),
    "m4a": Container("M4A", "audio/mp4", "mov"),
    "aac": Container("AAC", "audio/aac", "aac"),
    "aiff": Container("AIFF", "audio/aiff", "aiff"),
}

# Demuxers that open other files or URLs named inside the input. None is in CONTAINERS; this is
# a second lock so that a future edit there cannot bring one in.
REFERENCING_DEMUXERS = frozenset(
    {"hls", "applehttp", "dash", "concat", "ffconcat", "mpd", "image2", "tee", "data", "lavfi"}
)


def demuxer_for(container: str) -> str:
    """The ffmpeg demuxer for a sniffed container; ValueError for anything else."""
    demuxer = CONTAINERS[container].demuxer if container in CONTAINERS else ""
    if not demuxer or demuxer in REFERENCING_DEMUXERS:
        raise ValueError(f"no safe demuxer for {container!r}")
    return demuxer


def detect_audio_format(head: bytes) -> str | None:
    """The container named by the first bytes ('mp3', 'wav', ...), or None.

    Only the head is looked at, so an ID3 tag is taken on trust here; `sniff_file` also checks
    what follows the tag and is what uploads and the decoder use."""
    if head[:4] == b"RIFF" and head[8:12] in (b"WAVE", b"RF64"):
        return "wav"
    if head[:4] == b"RF64":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head[:3] == b"ID3":
        return "mp3"  # an ID3v2 tag precedes MPEG audio (or ADTS; the frame decides in sniff_file)
    return frame_sync_format(head)


def frame_sync_format(head: bytes) -> str | None:
    """'mp3' or 'aac' when `head` starts with a valid MPEG audio or ADTS frame header, else None.

    Both start with 11-12 set bits; the layer tells them apart, and reserved values rule out
    random bytes that happen to start with 0xFF."""
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


def id3_tag_length(head: bytes) -> int | None:
    """The byte length of the ID3v2 tag `head` starts with (header, body, footer), or None."""
    if len(head) < 10 or head[:3] != b"ID3" or head[3] == 0xFF or head[4] == 0xFF:
        return None
    size_bytes = head[6:10]
    if any(byte & 0x80 for byte in size_bytes):
        return None  # a syncsafe integer never has the top bit set
    size = 0
    for byte in size_bytes:
        size = (size << 7) | byte
    footer = 10 if head[5] & 0x10 else 0
    return 10 + size + footer


def sniff_file(handle: IO[bytes]) -> str | None:
    """The container of an open binary file, or None; the position is restored afterwards.

    Behind ID3 tags there must be a real MPEG or ADTS frame (after optional NUL padding):
    anything else, such as a playlist or an XML manifest, is not audio."""
    start = handle.tell()
    try:
        head = handle.read(HEAD_BYTES)
        found = detect_audio_format(head)
        if found != "mp3" or head[:3] != b"ID3":
            return found
        return _format_after_id3(handle, start)
    finally:
        handle.seek(start)


def _format_after_id3(handle: IO[bytes], start: int) -> str | None:
    offset = start
    for _ in range(MAX_ID3_TAGS):
        handle.seek(offset)
        header = handle.read(10)
        length = id3_tag_length(header)
        if length is None:
            break
        offset += length
    else:
        return None
    handle.seek(offset)
    window = handle.read(AFTER_TAG_SEARCH_BYTES)
    stripped = window.lstrip(b"\x00")
    if stripped[:4] == b"fLaC":
        return "flac"  # some taggers put ID3 in front of FLAC
    return frame_sync_format(stripped[:4])
