"""Turn an audio file into a mono 16 kHz excerpt for the genre model.

The container is detected from the file's bytes, never its name: uploads and previews arrive with
arbitrary or missing extensions. libsndfile (through soundfile) reads WAV, FLAC, Ogg Vorbis/Opus, AIFF
and MP3 in-process and can seek, so only the excerpt is decoded; everything else (m4a/AAC, or a file
libsndfile refuses) goes to ffmpeg, and to audioread when ffmpeg is not installed.

Every failure is an `AudioError` subclass whose str() is a sentence a user can read.

Uploads are hostile: ffmpeg is never left to guess a format (a playlist or manifest behind an
ID3 tag would make it open other users' files), so it gets the sniffed container's demuxer with
`-f`, may open only that one file (protocol and format whitelists), and anything the sniffer does
not recognise is refused before any decoder sees it.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from worker.audio.sniff import demuxer_for, sniff_file

SAMPLE_RATE = 16_000
EXCERPT_S = 30.0
MIN_DURATION_S = 3.0
# Beyond these the file is refused before decoding: a worker must not spend minutes on one upload.
MAX_DURATION_S = 30 * 60.0
MAX_FILE_BYTES = 300 * 1024 * 1024
DECODE_TIMEOUT_S = 60.0
# Mastered music sits around -20 to -8 dBFS RMS; -60 dBFS is room noise on a quiet recording.
SILENCE_RMS_DBFS = -60.0

# Containers libsndfile decodes itself; the rest go to ffmpeg.
SOUNDFILE_FORMATS = frozenset({"wav", "flac", "ogg", "aiff", "mp3"})


class AudioError(Exception):
    """Base class: the file cannot be analysed. str() is a user-readable reason."""


class NotAudioError(AudioError):
    pass


class TooShortError(AudioError):
    pass


class SilentAudioError(AudioError):
    pass


class TooLongError(AudioError):
    pass


class InvalidSamplesError(AudioError):
    pass


# One sentence for every file that is not audio we read, whatever the reason, so the message never
# tells an attacker more (such as whether a path named inside the file exists).
NOT_AUDIO = "The file is not audio in a format we can read."


@dataclass(frozen=True)
class Audio:
    """A mono float32 excerpt at `sample_rate`, cut from the middle of the source."""

    samples: np.ndarray
    sample_rate: int
    duration_s: float  # of the whole source file
    excerpt_start_s: float
    container: str

    @property
    def excerpt_s(self) -> float:
        return len(self.samples) / self.sample_rate


def load_audio(path: str | Path, *, sample_rate: int = SAMPLE_RATE, excerpt_s: float = EXCERPT_S) -> Audio:
    """Decode the middle `excerpt_s` seconds of `path` to mono float32 at `sample_rate`."""
    path = Path(path)
    container = _check_file(path)
    decoded = None
    if container in SOUNDFILE_FORMATS:
        decoded = _decode_soundfile(path, excerpt_s)
    if decoded is None:
        decoded = _decode_external(path, container, excerpt_s)
    samples, native_rate, duration_s, start_s = decoded
    _check_finite(samples)
    samples = _resample(samples, native_rate, sample_rate)
    _check_excerpt(samples, sample_rate)
    return Audio(samples, sample_rate, duration_s, start_s, container)


def audio_duration_s(source: str | Path | IO[bytes]) -> float | None:
    """Seconds of audio from the file's headers, without decoding it, as libsndfile reads them (exact
    for WAV, FLAC, Ogg, AIFF, MP3); None when it cannot tell (raw AAC, MP4: only decoding tells, and
    decoding goes through ffmpeg held to the sniffed demuxer, in load_audio)."""
    import soundfile as sf

    try:
        info = sf.info(source if hasattr(source, "read") else str(source))
    except Exception:  # libsndfile raises several unrelated types for input it cannot read
        return None
    return info.frames / info.samplerate if info.frames > 0 and info.samplerate else None


def _check_file(path: Path) -> str:
    """The sniffed container; NotAudioError for an unreadable, empty or unrecognised file."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            container = sniff_file(handle)
    except OSError as exc:
        raise NotAudioError(f"The file could not be read ({exc.strerror or exc}).") from exc
    if size == 0:
        raise NotAudioError("The file is empty.")
    if size > MAX_FILE_BYTES:
        raise TooLongError(f"The file is larger than {MAX_FILE_BYTES // 2**20} MB.")
    if container is None:
        raise NotAudioError(NOT_AUDIO)
    return container


def _check_duration(duration_s: float) -> None:
    if not np.isfinite(duration_s) or duration_s <= 0:
        raise NotAudioError("The file contains no audio.")
    if duration_s < MIN_DURATION_S:
        raise TooShortError(
            f"The audio lasts {duration_s:.1f} s; at least {MIN_DURATION_S:.0f} s are needed."
        )
    if duration_s > MAX_DURATION_S:
        raise TooLongError(
            f"The audio lasts {duration_s / 60:.0f} minutes; the limit is {MAX_DURATION_S / 60:.0f} minutes."
        )


def _excerpt_window(duration_s: float, excerpt_s: float) -> tuple[float, float]:
    """(start, length) in seconds of the middle `excerpt_s` of the source."""
    length = min(duration_s, excerpt_s)
    return (duration_s - length) / 2.0, length


# --- soundfile -----------------------------------------------------------------------------


def _decode_soundfile(path: Path, excerpt_s: float) -> tuple[np.ndarray, int, float, float] | None:
    """Decode with libsndfile, or None when it cannot (the caller then tries ffmpeg)."""
    import soundfile as sf

    try:
        with sf.SoundFile(str(path)) as handle:
            rate = handle.samplerate
            frames = handle.frames
            duration_s = frames / rate if rate else 0.0
            if frames <= 0:
                return None  # some VBR mp3s report no length; ffmpeg measures them properly
            _check_duration(duration_s)
            start_s, length_s = _excerpt_window(duration_s, excerpt_s)
            if start_s > 0:
                handle.seek(int(start_s * rate))
            data = handle.read(int(length_s * rate), dtype="float32", always_2d=True)
    except AudioError:
        raise
    except Exception:  # libsndfile raises several unrelated types for bad input
        return None
    if data.size == 0:
        return None
    return data.mean(axis=1), rate, duration_s, start_s


# --- ffmpeg / audioread --------------------------------------------------------------------


def _decode_external(path: Path, container: str, excerpt_s: float) -> tuple[np.ndarray, int, float, float]:
    if shutil.which("ffmpeg") and shutil.which("ffprobe"):
        return _decode_ffmpeg(path, container, excerpt_s)
    return _decode_audioread(path, excerpt_s)


def ffmpeg_input_args(path: Path, container: str) -> list[str]:
    """The options that open `path` as exactly one file of the sniffed container.

    `-f` stops ffmpeg probing the content (the probe is what picks the HLS or DASH demuxer for a
    playlist behind an ID3 tag); the whitelists stop any demuxer from opening a second file or a
    URL; the `file:` prefix keeps a name like `hls:...` or `concat:...` from choosing a protocol."""
    demuxer = demuxer_for(container)
    args = ["-protocol_whitelist", "file", "-format_whitelist", demuxer, "-f", demuxer]
    if demuxer == "mov":
        args += ["-enable_drefs", "0"]  # MP4 data references name other files (off by default; kept off)
    return [*args, "-i", f"file:{path.resolve()}"]


def _run(cmd: list[str]) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=DECODE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise TooLongError(f"Decoding took longer than {DECODE_TIMEOUT_S:.0f} s.") from exc


def _probe(path: Path, container: str) -> tuple[float, int]:
    """(duration in seconds, sample rate) of the first audio stream, according to ffprobe."""
    cmd = ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=sample_rate,duration"]
    cmd += ["-show_entries", "format=duration", "-of", "default=noprint_wrappers=1"]
    cmd += ffmpeg_input_args(path, container)
    proc = _run(cmd)
    fields: dict[str, str] = {}
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition("=")
        if value not in ("", "N/A"):
            fields.setdefault(key, value)  # the stream's duration comes first and wins over the format's
    if proc.returncode != 0 or "sample_rate" not in fields:
        raise NotAudioError(NOT_AUDIO)
    return float(fields.get("duration", "nan")), int(fields["sample_rate"])


def _decode_ffmpeg(path: Path, container: str, excerpt_s: float) -> tuple[np.ndarray, int, float, float]:
    duration_s, rate = _probe(path, container)
    _check_duration(duration_s)
    start_s, length_s = _excerpt_window(duration_s, excerpt_s)
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-ss", f"{start_s:.3f}", "-t", f"{length_s:.3f}"]
    cmd += ffmpeg_input_args(path, container)
    cmd += ["-map", "a:0", "-ac", "1", "-f", "f32le", "-acodec", "pcm_f32le", "-"]
    proc = _run(cmd)
    samples = np.frombuffer(proc.stdout, dtype="<f4").astype(np.float32)
    if proc.returncode != 0 or samples.size == 0:
        raise NotAudioError("The audio could not be decoded; the file may be damaged.")
    return samples, rate, duration_s, start_s


def _decode_audioread(path: Path, excerpt_s: float) -> tuple[np.ndarray, int, float, float]:
    import audioread

    try:
        with audioread.audio_open(str(path)) as source:
            rate, channels, duration_s = source.samplerate, source.channels, float(source.duration)
            _check_duration(duration_s)
            start_s, length_s = _excerpt_window(duration_s, excerpt_s)
            pcm = b"".join(source.read_data())
    except AudioError:
        raise
    except Exception as exc:  # audioread's backends raise their own types
        raise NotAudioError(NOT_AUDIO) from exc
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    samples = samples.reshape(-1, channels).mean(axis=1)
    first = int(start_s * rate)
    return samples[first : first + int(length_s * rate)], rate, duration_s, start_s


# --- after decoding ------------------------------------------------------------------------


def _check_finite(samples: np.ndarray) -> None:
    # Float WAV and FLAC can store NaN and infinity; no player makes sound from them, and the
    # model would turn them into garbage, so say what is wrong instead.
    if not np.isfinite(samples).all():
        raise InvalidSamplesError(
            "The audio contains invalid sample values (not-a-number or infinity), which usually means "
            "a broken export. Export it again, for example as 16-bit WAV or MP3."
        )


def _resample(samples: np.ndarray, native_rate: int, target_rate: int) -> np.ndarray:
    samples = np.asarray(samples, dtype=np.float32)
    if native_rate != target_rate:
        import librosa

        # soxr_hq is librosa.load's default, which is what musicnn's training data went through.
        samples = librosa.resample(samples, orig_sr=native_rate, target_sr=target_rate, res_type="soxr_hq")
    return np.ascontiguousarray(samples, dtype=np.float32)


def rms_dbfs(samples: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0
    return 20.0 * np.log10(max(rms, 1e-12))


def _check_excerpt(samples: np.ndarray, sample_rate: int) -> None:
    # Headers can lie about length (truncated downloads), so check what was actually decoded.
    decoded_s = len(samples) / sample_rate
    if decoded_s < MIN_DURATION_S - 0.05:
        raise TooShortError(f"Only {decoded_s:.1f} s of audio could be decoded; at least 3 s are needed.")
    # A constant (DC) offset carries no sound: measure what varies, so a flat line counts as silence.
    if rms_dbfs(samples - samples.mean(dtype=np.float64)) < SILENCE_RMS_DBFS:
        raise SilentAudioError("The audio is silent or nearly silent.")
