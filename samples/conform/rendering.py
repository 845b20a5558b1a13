"""The audio side of conforming a sample: decode a preview, time-stretch and pitch-shift it with
Rubber Band (the `rubberband` command, stopped after a time limit), write a 44.1 kHz 16-bit WAV.

No Django here: samples.conform.conforming decides what to render and keeps the rows and files.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import soundfile as sf
import soxr

from worker.music.conform import loop_beats

SAMPLE_RATE = 44_100
RUBBERBAND = "rubberband"  # the command, looked up on PATH


class RenderError(Exception):
    """The render cannot be done; str() is a sentence for the user."""


def rubberband_available() -> bool:
    return shutil.which(RUBBERBAND) is not None


@dataclass(frozen=True)
class Rendered:
    wav: bytes
    duration_s: float
    time_ratio: float  # new length / old length
    seconds: float  # wall time spent decoding, stretching and encoding


def decode(data: bytes) -> tuple[np.ndarray, int]:
    """Frames × channels float32 and the sample rate. Previews are MP3, which libsndfile reads."""
    try:
        samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise RenderError("Freesound's preview could not be decoded.") from exc
    if samples.size == 0:
        raise RenderError("Freesound's preview holds no audio.")
    return samples, int(rate)


def stretch_and_shift(
    samples: np.ndarray, rate: int, *, time_ratio: float, semitones: int, time_limit: float | None = None
) -> np.ndarray:
    """Rubber Band in one pass: length × time_ratio, pitch + semitones (formants not preserved,
    as a sampler would do it). The command is stopped after `time_limit` seconds (RenderError)."""
    if abs(time_ratio - 1.0) < 1e-6 and semitones == 0:
        return samples
    # Rubber Band's --tempo is a speed factor: 2.0 plays twice as fast, so half the length. The
    # command is run here rather than through pyrubberband, which cannot stop it after a time.
    arguments = [RUBBERBAND, "-q", "--tempo", repr(1.0 / time_ratio)]
    if semitones:
        arguments += ["--pitch", str(semitones)]
    with tempfile.TemporaryDirectory(prefix="render-") as folder:
        source, target = Path(folder, "in.wav"), Path(folder, "out.wav")
        sf.write(source, samples, rate, subtype="FLOAT")
        try:
            subprocess.run(  # noqa: S603 (a fixed command; the arguments are numbers and our paths)
                [*arguments, str(source), str(target)],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=time_limit,
            )
        except subprocess.TimeoutExpired as exc:
            raise RenderError(f"Rendering took longer than {time_limit:.0f} s and was stopped.") from exc
        out, _ = sf.read(target, dtype="float32", always_2d=True)
    return np.asarray(out, dtype=np.float32)


def encode_wav(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    # A stretch or a shift can push peaks past full scale: clip rather than wrap around.
    sf.write(buffer, np.clip(samples, -1.0, 1.0), rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def wav_repeated(wav: IO[bytes], times: int) -> IO[bytes]:
    """The WAV `wav` (open for reading) played `times` times end to end (the same rate, 16-bit
    samples): `wav` itself when once, else a new in-memory file (and `wav` is closed)."""
    if times <= 1:
        return wav
    with wav:
        samples, rate = sf.read(wav, dtype="int16", always_2d=True)
    buffer = io.BytesIO()
    sf.write(buffer, np.tile(samples, (times, 1)), rate, format="WAV", subtype="PCM_16")
    buffer.seek(0)
    return buffer


def fitted_ratio(length_s: float, *, source_bpm: float | None, target_bpm: float | None) -> float:
    """New length / old length that makes the loop last a whole number of beats at the target
    tempo, counted on the decoded audio (Freesound's duration field can disagree with the preview)."""
    if not source_bpm or not target_bpm or length_s <= 0:
        return 1.0
    return loop_beats(length_s, source_bpm) * 60.0 / target_bpm / length_s


def render(
    data: bytes,
    *,
    source_bpm: float | None,
    target_bpm: float | None,
    semitones: int,
    max_source_s: float,
    refuse: Callable[[float, float], str] | None = None,
    time_limit: float | None = None,
) -> Rendered:
    """The conformed WAV of one preview: stretched from `source_bpm` to `target_bpm` (when both are
    given) and shifted by `semitones`. `refuse(length_s, time_ratio)`, given the decoded length and
    the stretch, says why not to render ("" to go on); the whole render stops after `time_limit` s."""
    started = time.perf_counter()
    samples, rate = decode(data)
    length_s = samples.shape[0] / rate
    if length_s > max_source_s:
        raise RenderError(
            f"The preview is {length_s:.0f} s long; only samples up to {max_source_s:.0f} s are conformed."
        )
    time_ratio = fitted_ratio(length_s, source_bpm=source_bpm, target_bpm=target_bpm)
    if refuse is not None and (refusal := refuse(length_s, time_ratio)):
        raise RenderError(refusal)
    if rate != SAMPLE_RATE:
        samples = np.asarray(soxr.resample(samples, rate, SAMPLE_RATE), dtype=np.float32)
    if not rubberband_available() and (abs(time_ratio - 1.0) >= 1e-6 or semitones):
        raise RenderError("Conforming is off: this server lacks Rubber Band (the rubberband-cli package).")
    left = None if time_limit is None else max(1.0, time_limit - (time.perf_counter() - started))
    try:
        out = stretch_and_shift(
            samples, SAMPLE_RATE, time_ratio=time_ratio, semitones=semitones, time_limit=left
        )
    except (OSError, RuntimeError, subprocess.CalledProcessError, sf.LibsndfileError) as exc:
        raise RenderError("Rubber Band failed on this sample.") from exc
    wav = encode_wav(out, SAMPLE_RATE)
    return Rendered(wav, out.shape[0] / SAMPLE_RATE, time_ratio, time.perf_counter() - started)
