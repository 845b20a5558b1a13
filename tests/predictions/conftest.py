from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
from django.core.files.uploadedfile import SimpleUploadedFile

from worker.audio.spectrogram import save_mel


def chord_clip(seconds: float = 12.0, sr: int = 22050, bpm: float = 120.0) -> np.ndarray:
    """An A-minor chord with a kick on every beat: music-like enough for every stage of the job."""
    t = np.arange(int(seconds * sr)) / sr
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 261.63, 329.63)) / 3
    kick = np.zeros_like(t)
    beat = int(sr * 60 / bpm)
    for start in range(0, len(t), beat):
        n = min(2000, len(t) - start)
        kick[start : start + n] += np.sin(2 * np.pi * 60 * t[:n]) * np.exp(-t[:n] * 30)
    return (0.3 * chord + 0.5 * kick).astype(np.float32)


def fake_mel_power(frames: int = 600, bands: int = 96) -> np.ndarray:
    """A (frames, bands) mel power with some structure: louder low bands, a pulse every 30 frames."""
    rng = np.random.default_rng(3)
    tilt = np.logspace(0, -6, bands)[None, :]
    pulse = 1.0 + 9.0 * (np.arange(frames) % 30 < 3)[:, None]
    return (rng.uniform(0.5, 1.0, (frames, bands)) * tilt * pulse).astype(np.float32)


def wav_bytes(tmp_path: Path, seconds: float = 12.0) -> bytes:
    path = tmp_path / "clip.wav"
    sf.write(path, chord_clip(seconds), 22050)
    return path.read_bytes()


@pytest.fixture
def wav_upload(tmp_path: Path) -> SimpleUploadedFile:
    return SimpleUploadedFile("my song.wav", wav_bytes(tmp_path), content_type="audio/wav")


@pytest.fixture
def text_upload() -> SimpleUploadedFile:
    return SimpleUploadedFile(
        "not-a-song.mp3", b"these are words, not audio " * 100, content_type="audio/mpeg"
    )


class FakePredictor:
    """Stands in for the TensorFlow model in unit tests: same call, fixed-shape answer.
    `calls` keeps the bytes of each file it was given (the job deletes its scratch files)."""

    def __init__(self) -> None:
        self.calls: list[bytes] = []

    def predict(self, path, *, spectrogram_png=None, spectrogram_mel=None):
        self.calls.append(Path(path).read_bytes())
        if spectrogram_png is not None:
            Path(spectrogram_png).write_bytes(b"\x89PNG\r\n\x1a\n fake")
        if spectrogram_mel is not None:  # a real saved mel (numpy only), for the drawing task
            save_mel(fake_mel_power(), spectrogram_mel, start_s=10.0)
        genres = {
            "classical": 0.05,
            "dance": 0.5,
            "electronica": 0.2,
            "pop": 0.1,
            "rnb": 0.05,
            "rock": 0.05,
            "shoegaze": 0.05,
        }
        return SimpleNamespace(
            genres=genres,
            top=sorted(genres.items(), key=lambda kv: kv[1], reverse=True),
            tags=[("electronic", 0.8), ("dance", 0.7)],
            outside_taxonomy=None,
            tempo_bpm=120.0,
            tempo_confidence=0.9,
            key="A minor",
            key_confidence=0.7,
            tempo_alternative_bpm=None,
            beat_times=[0.25, 0.75, 1.25],
            key_alternatives=[("C major", 0.6), ("E minor", 0.4)],
            model_name="fake",
            model_version="0.0.1",
            timings={"total": 0.01},
            excerpt_s=10.0,
            backbone={"msd": [0.02] * 50, "mtt": [0.02] * 50, "embedding": [0.0] * 400},
            patches_read=5,
        )


@pytest.fixture
def fake_predictor(monkeypatch) -> FakePredictor:
    fake = FakePredictor()
    monkeypatch.setattr("worker.predictor.get_predictor", lambda *args, **kwargs: fake)
    return fake
