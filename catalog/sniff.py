"""Content sniffing for catalog code: the one sniffer lives in worker.audio.sniff, shared with the decoder."""

from __future__ import annotations

from worker.audio.sniff import CONTAINERS, HEAD_BYTES, detect_audio_format, sniff_file

FORMAT_LABELS = {name: container.label for name, container in CONTAINERS.items()}

__all__ = ["FORMAT_LABELS", "HEAD_BYTES", "detect_audio_format", "sniff_file"]
