"""Does the excerpt sound like music at all? A small rule-based detector of noise, speech and near-silence.

The genre, tempo and key estimators answer for anything they are given: pink noise came out as
"Rock 27 %" at a "fairly sure" 155 BPM. This module measures three plain statistics of the 16 kHz
mono excerpt, takes the tempo estimate's agreement as a fourth, and calls the excerpt not music
when one of three rules holds (checked in this order):

- near-silence: the loud moments (95th percentile of 32 ms frame levels) stay under `QUIET_DBFS`.
  Fully silent files are refused before this, by worker.audio.decode.
- noise: the spectrum hardly changes (`spectral_change`, the mean over 40 mel bands of the standard
  deviation of their log10 energy across 0.5 s blocks, under `STEADY_BELOW`): hiss, static, hum,
  rain. Music changes; even a held chord breathes more than this.
- speech: many frames are quiet against their second of sound (`low_energy`, the share of frames
  under half the mean energy of the 1 s around them, at least `SPEECH_LOW_ENERGY`: the pauses
  between syllables and words; Scheirer & Slaney, "Construction and evaluation of a robust
  multifeature speech/music discriminator", ICASSP 1997) *and* no steady pulse (`pulse`, the tempo
  estimate's agreement across the clip, under `SPEECH_PULSE`), which keeps out drum machines
  whose hits leave the same gaps.

The thresholds were set on the real-recordings development set (146 clips: none may be flagged)
against generated noise, near-silence and espeak-ng speech; bench/musicness.py prints both rates
and docs/model.md has the figures and the margins.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

MUSIC, NEAR_SILENCE, NOISE, SPEECH = "music", "near_silence", "noise", "speech"

FRAME_S = 0.032  # 512 samples at 16 kHz, hop half of it
LOUD_PERCENTILE = 95
BLOCK_S = 0.5  # the blocks spectral_change compares
N_BANDS = 40
CONTEXT_S = 1.0  # the window low_energy compares a frame with

QUIET_DBFS = -50.0  # real music's quietest loud moments: -43.2 dBFS (a GTZAN classical clip)
STEADY_BELOW = 0.08  # noise 0.042-0.044; real music from 0.117
SPEECH_LOW_ENERGY = 0.53  # espeak-ng speech 0.56-0.60; real music up to 0.50
SPEECH_PULSE = 0.6  # speech 0.25-0.48; real music with low_energy over 0.45 from 0.85

REASONS = {
    NEAR_SILENCE: "It is nearly silent.",
    NOISE: "It sounds like noise: the sound hardly changes, with no notes or rhythm in it.",
    SPEECH: "It sounds like speech: short pauses everywhere and no steady beat.",
}


@dataclass(frozen=True)
class Measures:
    loud_dbfs: float
    spectral_change: float
    low_energy: float  # 0..1
    pulse: float  # 0..1, worker.music.tempo's agreement

    def to_dict(self) -> dict[str, float]:
        return {name: round(float(value), 3) for name, value in asdict(self).items()}


@dataclass(frozen=True)
class Verdict:
    kind: str  # MUSIC, NEAR_SILENCE, NOISE or SPEECH
    measures: Measures

    @property
    def is_music(self) -> bool:
        return self.kind == MUSIC

    @property
    def reason(self) -> str:
        return REASONS.get(self.kind, "")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "measures": self.measures.to_dict()}


def judge(samples: np.ndarray, sample_rate: int, *, pulse: float) -> Verdict:
    """The verdict on an excerpt; `pulse` is the onset tempo agreement (worker.analysis.Tempo.pulse)."""
    return verdict_of(measure(samples, sample_rate, pulse=pulse))


def verdict_of(m: Measures) -> Verdict:
    if m.loud_dbfs < QUIET_DBFS:
        return Verdict(NEAR_SILENCE, m)
    if m.spectral_change < STEADY_BELOW:
        return Verdict(NOISE, m)
    if m.low_energy >= SPEECH_LOW_ENERGY and m.pulse < SPEECH_PULSE:
        return Verdict(SPEECH, m)
    return Verdict(MUSIC, m)


def measure(samples: np.ndarray, sample_rate: int, *, pulse: float) -> Measures:
    import librosa

    frame = int(2 ** round(np.log2(sample_rate * FRAME_S)))
    hop = frame // 2
    x = np.asarray(samples, dtype=np.float32)
    power = np.abs(librosa.stft(x - float(x.mean()), n_fft=frame, hop_length=hop)) ** 2
    energy = power.sum(axis=0) + 1e-12
    # Parseval: a frame's mean square is its power sum over the (Hann-weighted) frame length squared.
    levels = 10.0 * np.log10(energy * 2.0 / frame**2 / 0.375)
    mel = librosa.feature.melspectrogram(S=power, sr=sample_rate, n_mels=N_BANDS)
    block = max(1, int(round(BLOCK_S * sample_rate / hop)))
    blocks = max(1, mel.shape[1] // block)
    banded = (
        mel[:, : blocks * block].reshape(N_BANDS, blocks, -1).mean(axis=2) if mel.shape[1] >= block else mel
    )
    context = max(1, int(round(CONTEXT_S * sample_rate / hop)))
    around = np.convolve(energy, np.ones(context) / context, mode="same")
    return Measures(
        loud_dbfs=float(np.percentile(levels, LOUD_PERCENTILE)),
        spectral_change=float(np.mean(np.std(np.log10(banded + 1e-10), axis=1))),
        low_energy=float(np.mean(energy < 0.5 * around)),
        pulse=float(pulse),
    )
