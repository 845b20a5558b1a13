from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import soundfile as sf

from corpus import render

pytestmark = pytest.mark.skipif(
    shutil.which("fluidsynth") is None or not render.DEFAULT_SOUNDFONT.is_file(),
    reason="needs Debian's fluidsynth and fluid-soundfont-gm",
)


def _a440(seconds: float = 1.0) -> pretty_midi.PrettyMIDI:
    midi = pretty_midi.PrettyMIDI()
    flute = pretty_midi.Instrument(program=73)
    flute.notes.append(pretty_midi.Note(velocity=100, pitch=69, start=0.1, end=0.1 + seconds))
    midi.instruments.append(flute)
    return midi


def test_renders_a_note_at_its_pitch_and_time(tmp_path: Path) -> None:
    out = render.render_wav(_a440(), tmp_path / "a.wav", sample_rate=22_050)
    audio, sr = sf.read(out)
    mono = audio.mean(axis=1)

    assert sr == 22_050
    assert np.abs(mono[: int(0.08 * sr)]).max() < 0.01  # silent before the note starts
    note = mono[int(0.3 * sr) : int(1.0 * sr)]
    spectrum = np.abs(np.fft.rfft(note * np.hanning(len(note))))
    peak_hz = np.argmax(spectrum) * sr / len(note)
    assert peak_hz == pytest.approx(440.0, abs=3.0)


def test_missing_soundfont_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(render.RenderError, match="soundfont not found.*fluid-soundfont-gm"):
        render.render_wav(_a440(), tmp_path / "a.wav", soundfont=tmp_path / "nope.sf2")
    assert not (tmp_path / "a.wav").exists()


def test_soundfont_path_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    font = tmp_path / "mine.sf2"
    font.write_bytes(b"x")
    monkeypatch.setenv(render.SOUNDFONT_ENV, str(font))

    assert render.soundfont_path() == font


def test_missing_fluidsynth_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(render.RenderError, match="fluidsynth program is not installed"):
        render.render_wav(_a440(), tmp_path / "a.wav")
