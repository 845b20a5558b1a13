"""Generated audio for the conforming tests and the render bench: click-track loops of a known
tempo and steady tones of a known pitch, as WAV bytes."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf

RATE = 44_100


def click_loop(
    bpm: float, beats: int, *, rate: int = RATE, first: float = 0.8, others: float = 0.8
) -> np.ndarray:
    """`beats` clicks (a 5 ms 2 kHz blip, decaying) exactly 60/bpm apart, lasting exactly `beats` beats;
    the first click at level `first`, the others at `others`."""
    length = round(beats * 60.0 / bpm * rate)
    out = np.zeros(length, dtype=np.float32)
    blip_t = np.arange(int(0.005 * rate)) / rate
    blip = (np.sin(2 * np.pi * 2000 * blip_t) * np.exp(-blip_t * 800)).astype(np.float32)
    for beat in range(beats):
        start = round(beat * 60.0 / bpm * rate)
        out[start : start + blip.size] += (first if beat == 0 else others) * blip[: length - start]
    return out


def tone(freq: float, seconds: float = 2.0, *, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def wav_bytes(samples: np.ndarray, rate: int = RATE) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def measured_bpm(samples: np.ndarray, rate: int = RATE) -> float:
    """The tempo of a click track: onsets found by librosa, the beat period fitted through all of
    them (a straight line through onset time against beat number), so frame rounding averages out."""
    import librosa

    hop = 64
    onsets = librosa.onset.onset_detect(
        y=np.asarray(samples, dtype=np.float32), sr=rate, hop_length=hop, units="time", backtrack=False
    )
    period = np.polyfit(np.arange(onsets.size), onsets, 1)[0]
    return float(60.0 / period)


def measured_semitones(samples: np.ndarray, reference_hz: float, rate: int = RATE) -> float:
    """How far the median pitch (librosa's YIN) lies from `reference_hz`, in semitones."""
    import librosa

    f0 = librosa.yin(np.asarray(samples, dtype=np.float32), fmin=80, fmax=2000, sr=rate)
    return float(12 * np.log2(np.median(f0) / reference_hz))
