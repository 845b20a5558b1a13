from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fakeapis.hostile import ATTACKS
from tests.worker.conftest import write_audio
from worker.audio import decode as audio
from worker.audio.decode import (
    NOT_AUDIO,
    AudioError,
    InvalidSamplesError,
    NotAudioError,
    SilentAudioError,
    TooLongError,
    TooShortError,
    load_audio,
)


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3", "m4a"])
def test_load_audio_decodes_each_supported_format_to_mono_16k_middle_excerpt(music, fmt: str) -> None:
    result = load_audio(music[fmt])

    assert result.sample_rate == 16_000
    assert result.samples.dtype == np.float32
    assert result.samples.ndim == 1
    assert result.duration_s == pytest.approx(40.0, abs=0.2)
    assert result.excerpt_s == pytest.approx(30.0, abs=0.1)
    assert result.excerpt_start_s == pytest.approx(5.0, abs=0.2)
    assert np.abs(result.samples).max() > 0.1


def test_load_audio_detects_container_by_content_not_name(music, tmp_path: Path) -> None:
    disguised = tmp_path / "song.wav"
    disguised.write_bytes(music["m4a"].read_bytes())

    result = load_audio(disguised)

    assert result.container == "m4a"
    assert result.excerpt_s == pytest.approx(30.0, abs=0.1)


def test_load_audio_mixes_stereo_to_mono(tmp_path: Path, sine) -> None:
    left, right = sine(4.0, 440.0), sine(4.0, 660.0)
    path = write_audio(tmp_path / "stereo.wav", np.stack([left, right], axis=1))

    result = load_audio(path)

    assert result.samples.ndim == 1
    assert result.excerpt_s == pytest.approx(4.0, abs=0.05)


def test_load_audio_keeps_short_audio_whole(tmp_path: Path, sine) -> None:
    result = load_audio(write_audio(tmp_path / "short.flac", sine(5.0)))

    assert result.excerpt_start_s == 0.0
    assert result.excerpt_s == pytest.approx(5.0, abs=0.05)


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"", "empty.mp3"),
        (b"just some text, not music\n" * 50, "notes.mp3"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20, "picture.wav"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 200, "broken.wav"),
        (b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 500, "tags-only.mp3"),
    ],
)
def test_load_audio_raises_not_audio_for_garbage(tmp_path: Path, content: bytes, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(NotAudioError):
        load_audio(path)


def test_load_audio_raises_not_audio_for_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NotAudioError):
        load_audio(tmp_path / "nowhere.mp3")


@pytest.mark.parametrize("fmt", ["wav", "mp3"])
def test_load_audio_raises_too_short_under_three_seconds(tmp_path: Path, sine, fmt: str) -> None:
    path = write_audio(tmp_path / f"blip.{fmt}", sine(1.5))

    with pytest.raises(TooShortError, match="at least 3 s"):
        load_audio(path)


@pytest.mark.parametrize("amplitude", [0.0, 1e-5])
def test_load_audio_raises_silent_for_silent_or_near_silent_audio(
    tmp_path: Path, sine, amplitude: float
) -> None:
    path = write_audio(tmp_path / "quiet.wav", sine(5.0, amplitude=amplitude))

    with pytest.raises(SilentAudioError):
        load_audio(path)


@pytest.mark.parametrize("fmt", ["flac", "m4a"])
def test_load_audio_raises_too_long_beyond_the_duration_limit(
    tmp_path: Path, sine, monkeypatch, fmt: str
) -> None:
    path = write_audio(tmp_path / f"long.{fmt}", sine(12.0))
    monkeypatch.setattr(audio, "MAX_DURATION_S", 10.0)

    with pytest.raises(TooLongError, match="limit"):
        load_audio(path)


def test_load_audio_raises_too_long_for_huge_files(tmp_path: Path, sine, monkeypatch) -> None:
    path = write_audio(tmp_path / "big.wav", sine(5.0))
    monkeypatch.setattr(audio, "MAX_FILE_BYTES", 1000)

    with pytest.raises(TooLongError):
        load_audio(path)


def test_audio_errors_are_audio_errors_with_readable_messages() -> None:
    for cls in (NotAudioError, TooShortError, SilentAudioError, TooLongError):
        assert issubclass(cls, AudioError)


# --- issue 18, point 1: a playlist behind an ID3 tag made ffmpeg read another user's file -------


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_playlist_disguised_as_mp3_never_reads_the_file_it_names(
    music, tmp_path: Path, attack: str
) -> None:
    build, victim_format = ATTACKS[attack]
    hostile = tmp_path / "x.mp3"
    hostile.write_bytes(build(music[victim_format].resolve()))

    with pytest.raises(NotAudioError) as caught:
        load_audio(hostile)

    assert str(caught.value) == NOT_AUDIO


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_missing_path_gives_the_same_error_as_an_existing_one(music, tmp_path: Path, attack: str) -> None:
    build, victim_format = ATTACKS[attack]
    messages = []
    for target in (music[victim_format].resolve(), tmp_path / f"nowhere.{victim_format}"):
        hostile = tmp_path / "x.mp3"
        hostile.write_bytes(build(target))
        with pytest.raises(NotAudioError) as caught:
            load_audio(hostile)
        messages.append(str(caught.value))

    assert messages[0] == messages[1] == NOT_AUDIO


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_ffmpeg_itself_is_held_to_the_sniffed_container(music, tmp_path: Path, attack: str) -> None:
    """The second lock, without the sniffer: ffprobe and ffmpeg get `-f mp3` and may open one file,
    so even a hostile file that got past sniffing decodes nothing from the file it names."""
    build, victim_format = ATTACKS[attack]
    hostile = tmp_path / "x.mp3"
    hostile.write_bytes(build(music[victim_format].resolve()))

    with pytest.raises(NotAudioError):
        audio._decode_ffmpeg(hostile, "mp3", 30.0)
    args = audio.ffmpeg_input_args(hostile, "mp3")
    assert args[args.index("-f") + 1] == "mp3"
    assert args[args.index("-protocol_whitelist") + 1] == "file"
    assert args[-1] == f"file:{hostile.resolve()}"


# --- points 14 and 15: float garbage and a flat line ------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_float_audio_with_nan_or_infinity_says_what_is_wrong(tmp_path: Path, sine, bad: float) -> None:
    samples = sine(5.0).astype(np.float32)
    samples[1000:1100] = bad
    path = tmp_path / "broken.wav"
    import soundfile as sf

    sf.write(path, samples, 22050, subtype="FLOAT")

    with pytest.raises(InvalidSamplesError, match="not-a-number or infinity"):
        load_audio(path)


@pytest.mark.parametrize("level", [0.5, -0.25])
def test_a_constant_dc_signal_is_treated_like_silence(tmp_path: Path, level: float) -> None:
    path = write_audio(tmp_path / "dc.wav", np.full(22050 * 30, level, dtype=np.float32), sr=22050)

    with pytest.raises(SilentAudioError):
        load_audio(path)
