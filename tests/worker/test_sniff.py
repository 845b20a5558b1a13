"""The one content sniffer (worker.audio.sniff), shared by the upload form, the downloader and the decoder."""

from __future__ import annotations

import io

import pytest

from fakeapis.hostile import ID3_PREFIX, dash_manifest_as_mp3, hls_playlist_as_mp3
from worker.audio.sniff import CONTAINERS, REFERENCING_DEMUXERS, demuxer_for, detect_audio_format, sniff_file


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "wav"),
        (b"RF64\x00\x00\x00\x00WAVEfmt ", "wav"),
        (b"fLaC\x00\x00\x00\x22", "flac"),
        (b"OggS\x00\x02", "ogg"),
        (b"ID3\x04\x00", "mp3"),
        (b"\xff\xfb\x90\x00", "mp3"),
        (b"\xff\xf1\x50\x80", "aac"),
        (b"\x00\x00\x00\x20ftypM4A ", "m4a"),
        (b"FORM\x00\x00\x00\x00AIFF", "aiff"),
        (b"<html><body>", None),
        (b"\xff\xff\xff\xff", None),  # sync bits but reserved header values
        (b"#EXTM3U\n", None),
    ],
)
def test_detect_audio_format_reads_magic_bytes(head: bytes, expected: str | None) -> None:
    assert detect_audio_format(head) == expected


def test_sniff_file_accepts_an_id3_tag_followed_by_an_mpeg_frame_and_keeps_the_position() -> None:
    handle = io.BytesIO(ID3_PREFIX + b"\xff\xfb\x90\x64" + b"\x00" * 400)
    handle.seek(0)

    assert sniff_file(handle) == "mp3"
    assert handle.tell() == 0


def test_sniff_file_accepts_a_second_tag_and_nul_padding_before_the_frame() -> None:
    second = b"ID3\x04\x00\x00\x00\x00\x00\x05" + b"\x00" * 5

    assert sniff_file(io.BytesIO(ID3_PREFIX + second + b"\x00" * 100 + b"\xff\xfb\x90\x64")) == "mp3"


@pytest.mark.parametrize("build", [hls_playlist_as_mp3, dash_manifest_as_mp3])
def test_sniff_file_refuses_a_playlist_or_manifest_behind_an_id3_tag(build) -> None:
    hostile = build("/var/media/uploads/victim.mp3")
    assert detect_audio_format(hostile[:64]) == "mp3"  # the head alone is fooled: that was the bug

    assert sniff_file(io.BytesIO(hostile)) is None


def test_sniff_file_refuses_an_id3_tag_with_nothing_behind_it() -> None:
    assert sniff_file(io.BytesIO(ID3_PREFIX)) is None


def test_every_container_has_a_demuxer_that_opens_no_other_file() -> None:
    for name in CONTAINERS:
        assert demuxer_for(name) not in REFERENCING_DEMUXERS


@pytest.mark.parametrize("name", ["hls", "dash", "concat", "", "m3u8"])
def test_demuxer_for_refuses_anything_not_sniffed(name: str) -> None:
    with pytest.raises(ValueError, match="no safe demuxer"):
        demuxer_for(name)
