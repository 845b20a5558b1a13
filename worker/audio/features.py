"""The mel-spectrogram musicnn was trained on, cut into 3 s patches.

The parameters below are musicnn's training configuration (its config.json: 16 kHz, n_fft 512,
hop 256, 96 mels, "logC" compression). Changing any of them silently degrades every prediction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16_000
N_FFT = 512
HOP_LENGTH = 256
N_MELS = 96
PATCH_FRAMES = 187  # 3 s at 16 kHz / 256
PATCH_HOP = 187  # musicnn's default: no overlap, a tail shorter than 3 s is dropped


@dataclass(frozen=True)
class Features:
    mel_power: np.ndarray  # (frames, 96) float32, linear power: for the picture
    log_mel: np.ndarray  # (frames, 96) float32, log10(10000 * S + 1): the model input
    patches: np.ndarray  # (n, 187, 96) float32


def mel_power(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """librosa's mel power spectrogram with musicnn's parameters, as (frames, 96) float32."""
    import librosa

    if sample_rate != SAMPLE_RATE:
        raise ValueError(f"musicnn features need {SAMPLE_RATE} Hz audio, got {sample_rate} Hz")
    mel = librosa.feature.melspectrogram(
        y=samples, sr=sample_rate, n_fft=N_FFT, hop_length=HOP_LENGTH, n_mels=N_MELS
    )
    return np.ascontiguousarray(mel.T, dtype=np.float32)


def log_compress(mel: np.ndarray) -> np.ndarray:
    """log10(10000 * S + 1), keeping musicnn's float16 rounding of S but computing in float32.

    musicnn multiplies in float16; under NumPy 2 that product overflows to inf on loud music and
    every song then gets the same tags, with no error. Rounding S through float16 and multiplying in
    float32 reproduces the training-time values without the overflow.
    """
    rounded = mel.astype(np.float16).astype(np.float32)
    return np.log10(np.float32(10000.0) * rounded + np.float32(1.0)).astype(np.float32)


def to_patches(log_mel: np.ndarray, frames: int = PATCH_FRAMES, hop: int = PATCH_HOP) -> np.ndarray:
    """Cut (T, 96) into (n, frames, 96); input shorter than one patch is repeat-padded, as in training."""
    if log_mel.shape[0] < frames:
        reps = int(np.ceil(frames / max(log_mel.shape[0], 1)))
        log_mel = np.tile(log_mel, (reps, 1))[:frames]
    starts = range(0, log_mel.shape[0] - frames + 1, hop)
    return np.stack([log_mel[s : s + frames] for s in starts]).astype(np.float32)


def spread(patches: np.ndarray, count: int) -> np.ndarray:
    """`count` of the patches, evenly spread over the clip: the middle patch of each of `count` equal
    stretches (stratified sampling), in order. All of them when count is 0 or at least their number."""
    n = len(patches)
    if count <= 0 or count >= n:
        return patches
    return patches[((np.arange(count) + 0.5) * n / count).astype(int)]


def extract(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Features:
    power = mel_power(samples, sample_rate)
    log_mel = log_compress(power)
    return Features(power, log_mel, to_patches(log_mel))
