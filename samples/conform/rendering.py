"""The audio side of conforming a sample: decode a preview, time-stretch and pitch-shift it with
Rubber Band (the `rubberband` command, through pyrubberband), write a 44.1 kHz 16-bit WAV.

No Django here: samples.conform.conforming decides what to render and keeps the rows and files.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import time
from dataclasses import dataclass

import numpy as np
import soundfile as sf
import soxr

from worker.music.conform import loop_beats

SAMPLE_RATE = 44_100
RUBBERBAND = "rubberband"  # the name pyrubberband runs, looked up on PATH


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


def stretch_and_shift(samples: np.ndarray, rate: int, *, time_ratio: float, semitones: int) -> np.ndarray:
    """Rubber Band in one pass: length × time_ratio, pitch + semitones (formants not preserved,
    as a sampler would do it)."""
    if abs(time_ratio - 1.0) < 1e-6 and semitones == 0:
        return samples
    import pyrubberband  # imported here: it runs a subprocess, which only renders need

    # Rubber Band's --tempo is a speed factor: 2.0 plays twice as fast, so half the length. Both
    # changes go in one pass; pyrubberband's helpers skip the command when their own change is nil,
    # so the one called is the one whose change is not.
    tempo = 1.0 / time_ratio
    if semitones:
        out = pyrubberband.pitch_shift(samples, rate, semitones, rbargs={"--tempo": repr(tempo)})
    else:
        out = pyrubberband.time_stretch(samples, rate, tempo)
    return np.asarray(out, dtype=np.float32)


def encode_wav(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    # A stretch or a shift can push peaks past full scale: clip rather than wrap around.
    sf.write(buffer, np.clip(samples, -1.0, 1.0), rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


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
) -> Rendered:
    """The conformed WAV of one preview: stretched from `source_bpm` to `target_bpm` (when both are
    given) and shifted by `semitones`."""
    started = time.perf_counter()
    samples, rate = decode(data)
    length_s = samples.shape[0] / rate
    if length_s > max_source_s:
        raise RenderError(
            f"The preview is {length_s:.0f} s long; only samples up to {max_source_s:.0f} s are conformed."
        )
    time_ratio = fitted_ratio(length_s, source_bpm=source_bpm, target_bpm=target_bpm)
    if rate != SAMPLE_RATE:
        samples = np.asarray(soxr.resample(samples, rate, SAMPLE_RATE), dtype=np.float32)
    if not rubberband_available() and (abs(time_ratio - 1.0) >= 1e-6 or semitones):
        raise RenderError("Conforming is off: this server lacks Rubber Band (the rubberband-cli package).")
    try:
        out = stretch_and_shift(samples, SAMPLE_RATE, time_ratio=time_ratio, semitones=semitones)
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:  # a missing or failing command
        raise RenderError("Rubber Band failed on this sample.") from exc
    wav = encode_wav(out, SAMPLE_RATE)
    return Rendered(wav, out.shape[0] / SAMPLE_RATE, time_ratio, time.perf_counter() - started)
