"""Generated audio for the genre-model tests: nothing is downloaded and no audio is checked in."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from worker.audio import synth

SR = synth.SR

WriteAudio = Callable[..., Path]


def write_audio(path: Path, samples: np.ndarray, sr: int = SR, fmt: str | None = None) -> Path:
    """Write with soundfile (wav, flac, ogg, mp3), or through ffmpeg for m4a."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = fmt or path.suffix.lstrip(".")
    if fmt == "m4a":
        if not shutil.which("ffmpeg"):
            pytest.skip("m4a needs ffmpeg")
        wav = path.with_suffix(".tmp.wav")
        sf.write(wav, samples, sr)
        cmd = [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(wav),
            "-c:a",
            "aac",
            "-b:a",
            "128k",
            "-f",
            "mp4",
            str(path),
        ]
        subprocess.run(cmd, check=True, timeout=60)
        wav.unlink()
        return path
    kwargs = {"format": "MP3"} if fmt == "mp3" else {"format": fmt.upper()}
    sf.write(path, samples, sr, **kwargs)
    return path


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audio")


@pytest.fixture(scope="session")
def music(audio_dir: Path) -> dict[str, Path]:
    """A 40 s drums-and-bass piece and a 35 s piano piece in every supported container."""
    drums = synth.drums_and_bass(40.0)
    piano = synth.piano_piece(35.0)
    files = {
        fmt: write_audio(audio_dir / f"drums.{fmt}", drums) for fmt in ("wav", "flac", "ogg", "mp3", "m4a")
    }
    files["piano_mp3"] = write_audio(audio_dir / "piano.mp3", piano)
    return files


@pytest.fixture
def sine() -> Callable[[float], np.ndarray]:
    def make(seconds: float, freq: float = 440.0, amplitude: float = 0.5) -> np.ndarray:
        t = np.arange(int(seconds * SR)) / SR
        return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)

    return make


@pytest.fixture(scope="session")
def predictor():
    """The real default predictor, loaded once for the whole session."""
    from worker.predictor import get_predictor

    predictor = get_predictor()
    predictor.load()
    return predictor
