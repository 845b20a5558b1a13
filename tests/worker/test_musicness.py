"""The musicness detector on generated noise, near-silence, speech and music (worker.musicness)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from worker import analysis, musicness
from worker.audio import synth
from worker.audio.decode import _resample, load_audio
from worker.audio.features import SAMPLE_RATE

SECONDS = 20.0


def verdict_of(samples: np.ndarray, sr: int = synth.SR) -> musicness.Verdict:
    x = _resample(samples.astype(np.float32), sr, SAMPLE_RATE)
    tempo = analysis.estimate_tempo(x, SAMPLE_RATE)
    return musicness.judge(x, SAMPLE_RATE, pulse=tempo.pulse)


@pytest.mark.parametrize("colour", ["white", "pink", "brown"])
@pytest.mark.parametrize("level", [0.3, 0.03])
def test_noise_of_any_colour_and_level_is_noise(colour: str, level: float) -> None:
    verdict = verdict_of(synth.noise(SECONDS, colour, level=level))

    assert verdict.kind == musicness.NOISE
    assert not verdict.is_music
    assert verdict.measures.spectral_change < musicness.STEADY_BELOW
    assert "noise" in verdict.reason


def test_hiss_under_minus_50_dbfs_is_near_silence() -> None:
    verdict = verdict_of(synth.noise(SECONDS, "white", level=10 ** (-56 / 20)))

    assert verdict.kind == musicness.NEAR_SILENCE
    assert verdict.measures.loud_dbfs < musicness.QUIET_DBFS
    assert verdict.reason == "It is nearly silent."


def test_a_mains_hum_is_not_music() -> None:
    t = np.arange(int(SECONDS * synth.SR)) / synth.SR
    hum = 0.01 * np.sin(2 * np.pi * 50 * t) + synth.noise(SECONDS, "pink", level=0.002)

    assert verdict_of(hum).kind == musicness.NOISE


@pytest.mark.parametrize(
    "samples",
    [synth.drums_and_bass(SECONDS), synth.piano_piece(SECONDS), 0.05 * synth.piano_piece(SECONDS)],
    ids=["drums_and_bass", "piano", "quiet-piano"],
)
def test_generated_music_is_music(samples: np.ndarray) -> None:
    verdict = verdict_of(samples)

    assert verdict.kind == musicness.MUSIC
    assert verdict.is_music
    assert verdict.reason == ""


def test_drum_machine_gaps_are_not_taken_for_speech() -> None:
    """drums_and_bass has as many quiet frames as speech; its steady pulse keeps it music."""
    verdict = verdict_of(synth.drums_and_bass(SECONDS))

    assert verdict.measures.low_energy >= musicness.SPEECH_LOW_ENERGY
    assert verdict.measures.pulse >= musicness.SPEECH_PULSE
    assert verdict.kind == musicness.MUSIC


needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="needs espeak-ng (Debian: espeak-ng)"
)
needs_fluidsynth = pytest.mark.skipif(
    shutil.which("fluidsynth") is None or not Path("/usr/share/sounds/sf2/FluidR3_GM.sf2").is_file(),
    reason="needs fluidsynth and fluid-soundfont-gm",
)


@needs_espeak
@pytest.mark.parametrize("voice", ["en", "de+f3"])
def test_espeak_speech_is_speech(tmp_path: Path, voice: str) -> None:
    from corpus.speech import speak_wav

    audio = load_audio(speak_wav(tmp_path / "speech.wav", voice=voice))
    tempo = analysis.estimate_tempo(audio.samples, audio.sample_rate)
    verdict = musicness.judge(audio.samples, audio.sample_rate, pulse=tempo.pulse)

    assert verdict.kind == musicness.SPEECH
    assert "speech" in verdict.reason


@needs_fluidsynth
def test_a_rendered_corpus_piece_is_music(tmp_path: Path) -> None:
    from corpus.compose import Style, compose
    from corpus.render import render_wav

    piece = compose(Style("ballad", 72.0, 9, "minor", drums="none", rubato=0.05, seconds=20.0))
    audio = load_audio(render_wav(piece.midi, tmp_path / "ballad.wav"))
    tempo = analysis.estimate_tempo(audio.samples, audio.sample_rate)

    assert musicness.judge(audio.samples, audio.sample_rate, pulse=tempo.pulse).is_music


def test_verdict_to_dict_names_the_kind_and_rounds_the_measures() -> None:
    verdict = musicness.verdict_of(musicness.Measures(-12.34567, 0.5, 0.1, 0.9))

    assert verdict.to_dict() == {
        "kind": "music",
        "measures": {"loud_dbfs": -12.346, "spectral_change": 0.5, "low_energy": 0.1, "pulse": 0.9},
    }


@pytest.mark.model
def test_the_predictor_says_pink_noise_is_noise_and_drums_are_music(predictor, music, tmp_path: Path) -> None:
    from tests.worker.conftest import write_audio

    noise = predictor.predict(write_audio(tmp_path / "pink.wav", synth.noise(SECONDS, "pink")))
    drums = predictor.predict(music["wav"])

    assert noise.sounds_like == musicness.NOISE
    assert set(noise.musicness) == {"loud_dbfs", "spectral_change", "low_energy", "pulse"}
    assert drums.sounds_like == musicness.MUSIC
    # The tempo's octave alternative, when there is one, is exactly ×2 or ÷2 of the estimate.
    for result in (noise, drums):
        if result.tempo_alternative_bpm is not None and result.tempo_bpm is not None:
            assert result.tempo_alternative_bpm in (
                round(result.tempo_bpm * 2, 1),
                round(result.tempo_bpm / 2, 1),
            )
