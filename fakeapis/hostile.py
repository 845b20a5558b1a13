"""Hostile uploads from issue 18: playlists and manifests dressed up as MP3 by an ID3 header."""

from __future__ import annotations

from pathlib import Path

# A 10-byte ID3v2.3 header declaring a 10-byte tag body, then the body: "the sniffer says mp3".
ID3_PREFIX = b"ID3\x03\x00\x00\x00\x00\x00\x0a" + b"\x00" * 10


def hls_playlist_as_mp3(target: Path | str) -> bytes:
    """An HLS playlist naming `target`: ffmpeg's probe skips the tag, picks hls, and opens it."""
    playlist = f"#EXTM3U\n#EXT-X-TARGETDURATION:30\n#EXTINF:30.0,\n{target}\n#EXT-X-ENDLIST\n"
    return ID3_PREFIX + playlist.encode()


def dash_manifest_as_mp3(target: Path | str) -> bytes:
    """A DASH manifest whose only segment is `target` (dash opens .m4a/.mp4 segments)."""
    manifest = (
        '<?xml version="1.0"?>\n'
        '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT30S" '
        'minBufferTime="PT1S" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011"><Period>'
        '<AdaptationSet mimeType="audio/mp4"><Representation id="a" bandwidth="128000">'
        f"<BaseURL>{target}</BaseURL></Representation></AdaptationSet></Period></MPD>\n"
    )
    return ID3_PREFIX + manifest.encode()


# Which victim file each attack can reach (ffmpeg 5.1 checks segment extensions).
ATTACKS = {"hls": (hls_playlist_as_mp3, "mp3"), "dash": (dash_manifest_as_mp3, "m4a")}
