"""What a sample sounds like, in the backbone's terms: its 400-value embedding and its 100 tag
probabilities, the same numbers the predictor computes for a song, so the two can be compared.

Samples differ from songs: one-shots last well under the 3 s a song must have, and previews are
short MP3s. So a clip is decoded whole (up to CLIP_S), a clip shorter than one 3 s patch is repeated
to fill it (as musicnn's own training did), and many clips share one backbone call (`embed_clips`).

The backbone is `worker.backbone.serving.get_backbone()`, the one the genre job serves (ONNX Runtime
by default; TensorFlow is never imported for it): only `patch_outputs` is used.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from worker.audio import features
from worker.audio.decode import (
    DECODE_TIMEOUT_S,
    NOT_AUDIO,
    SILENCE_RMS_DBFS,
    NotAudioError,
    SilentAudioError,
    TooShortError,
    ffmpeg_input_args,
    rms_dbfs,
)
from worker.audio.sniff import sniff_file
from worker.backbone.musicnn import MSD_TAGS, MTT_TAGS
from worker.backbone.serving import BackboneLike, get_backbone

CLIP_S = 30.0  # the first 30 s of a preview: a loop repeats, and songs are analysed over 30 s too
MIN_CLIP_S = 0.05  # shorter than this is not a sound, whatever the header says
TAG_NAMES: tuple[str, ...] = tuple(f"msd:{t}" for t in MSD_TAGS) + tuple(f"mtt:{t}" for t in MTT_TAGS)
EMBEDDING_DIM = 400


@dataclass(frozen=True)
class ClipVector:
    embedding: np.ndarray  # (400,) float32: mean of the patches' penultimate layers, MSD then MTT
    tags: np.ndarray  # (100,) float32: tag probabilities, TAG_NAMES order


def decode_clip(path: str | Path) -> np.ndarray:
    """Mono float32 at 16 kHz, the first CLIP_S seconds. Raises worker.audio.decode errors: NotAudioError
    (not audio, damaged), TooShortError (nothing decodable), SilentAudioError."""
    path = Path(path)
    with path.open("rb") as handle:
        container = sniff_file(handle)
    if container is None or path.stat().st_size == 0:
        raise NotAudioError(NOT_AUDIO)
    if not shutil.which("ffmpeg"):
        raise NotAudioError("ffmpeg is needed to decode samples.")
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-t", f"{CLIP_S:.1f}", *ffmpeg_input_args(path, container)]
    cmd += [
        "-map",
        "a:0",
        "-ac",
        "1",
        "-ar",
        str(features.SAMPLE_RATE),
        "-f",
        "f32le",
        "-acodec",
        "pcm_f32le",
        "-",
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=DECODE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise NotAudioError("Decoding took too long.") from exc
    samples = np.frombuffer(proc.stdout, dtype="<f4").astype(np.float32)
    if proc.returncode != 0 and samples.size == 0:
        raise NotAudioError("The audio could not be decoded; the file may be damaged.")
    return check_clip(samples)


def check_clip(samples: np.ndarray) -> np.ndarray:
    if samples.size < MIN_CLIP_S * features.SAMPLE_RATE:
        raise TooShortError("No audio could be decoded.")
    if not np.isfinite(samples).all():
        raise NotAudioError("The audio contains invalid sample values.")
    if rms_dbfs(samples - samples.mean(dtype=np.float64)) < SILENCE_RMS_DBFS:
        raise SilentAudioError("The audio is silent or nearly silent.")
    return samples


def clip_patches(samples: np.ndarray) -> np.ndarray:
    """(n, 187, 96) model input; a clip shorter than 3 s is repeated to fill one patch."""
    return features.extract(samples, features.SAMPLE_RATE).patches


def embed_clips(clips: Sequence[np.ndarray], backbone: BackboneLike | None = None) -> list[ClipVector]:
    """One backbone call for all the clips' patches (the ML worker's batch), split back per clip."""
    if not clips:
        return []
    if backbone is None:
        backbone = get_backbone()
    patches = [clip_patches(c) for c in clips]
    msd, mtt, emb = backbone.patch_outputs(np.concatenate(patches))
    out, start = [], 0
    for p in patches:
        end = start + len(p)
        tags = np.concatenate([msd[start:end].mean(axis=0), mtt[start:end].mean(axis=0)])
        out.append(ClipVector(emb[start:end].mean(axis=0).astype(np.float32), tags.astype(np.float32)))
        start = end
    return out
