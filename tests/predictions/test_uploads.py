"""Upload checks: size cap and type recognised from content."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from fakeapis.audio import fake_m4a, sine_wav
from predictions.uploads import validate_upload

SAMPLES = {
    "wav": sine_wav(3.5),
    "mp3": b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 400,
    "flac": b"fLaC\x00\x00\x00\x22" + b"\x00" * 400,
    "ogg": b"OggS\x00\x02" + b"\x00" * 400,
    "m4a": fake_m4a(),
    "aac": b"\xff\xf1\x50\x80\x02\x1f\xfc" + b"\x00" * 400,
}


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_accepts_each_format_by_content(kind):
    upload = SimpleUploadedFile("song.bin", SAMPLES[kind], content_type="application/octet-stream")

    assert validate_upload(upload) == kind
    assert upload.tell() == 0  # left ready to be saved


def test_accepts_an_mp3_without_id3_tag_by_its_frame_header():
    frames = b"\xff\xfb\x90\x64" + b"\x00" * 400  # MPEG-1 Layer III, 128 kbps, 44.1 kHz

    assert validate_upload(SimpleUploadedFile("a.mp3", frames)) == "mp3"


@pytest.mark.parametrize(
    "content",
    [
        b"these are words, not audio " * 50,
        b"%PDF-1.7\n" + b"0" * 500,
        b"\x89PNG\r\n\x1a\n" + b"0" * 500,
        b"\xff\xff\xff\xff" + b"0" * 500,  # sync bits but reserved header values
    ],
)
def test_refuses_content_that_is_not_audio_whatever_its_name(content):
    upload = SimpleUploadedFile("not-a-song.mp3", content, content_type="audio/mpeg")

    with pytest.raises(ValidationError) as caught:
        validate_upload(upload)

    assert "“not-a-song.mp3” is not an audio file Seven/Four can read" in caught.value.messages[0]
    assert "MP3, WAV, FLAC, OGG, M4A, AAC" in caught.value.messages[0]


def test_refuses_a_file_over_the_size_limit(settings):
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    upload = SimpleUploadedFile("long.wav", sine_wav(0.5) + b"\x00" * (1024 * 1024))

    with pytest.raises(ValidationError) as caught:
        validate_upload(upload)

    assert caught.value.code == "too_large"
    assert "the limit is 1.0\xa0MB" in caught.value.messages[0]


def test_refuses_an_empty_file():
    with pytest.raises(ValidationError, match="empty"):
        validate_upload(SimpleUploadedFile("empty.mp3", b""))


def test_refuses_a_clip_shorter_than_the_model_needs():
    upload = SimpleUploadedFile("hit.wav", sine_wav(1.2))

    with pytest.raises(ValidationError) as caught:
        validate_upload(upload)

    assert caught.value.code == "too_short"
    assert caught.value.messages[0].startswith("“hit.wav” lasts 1.2 s; Seven/Four needs at least 3 s")
    assert upload.tell() == 0


def test_a_length_the_headers_do_not_tell_is_left_to_the_job():
    # Raw AAC has no length in its headers: only decoding tells, which is the job's business.
    assert validate_upload(SimpleUploadedFile("a.aac", SAMPLES["aac"])) == "aac"


@pytest.mark.parametrize("attack", ["hls", "dash"])
def test_refuses_a_playlist_or_manifest_disguised_as_mp3(attack):
    from fakeapis.hostile import ATTACKS

    build, victim_format = ATTACKS[attack]
    upload = SimpleUploadedFile("x.mp3", build(f"/srv/media/uploads/victim.{victim_format}"))

    with pytest.raises(ValidationError) as caught:
        validate_upload(upload)

    assert caught.value.code == "not_audio"
