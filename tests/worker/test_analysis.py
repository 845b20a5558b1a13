from __future__ import annotations

import dataclasses

import librosa
import numpy as np
import pytest

from worker import analysis
from worker.audio import synth


def _at_16k(samples: np.ndarray) -> np.ndarray:
    return librosa.resample(samples, orig_sr=synth.SR, target_sr=16_000)


@pytest.mark.parametrize("bpm", [90.0, 120.0, 137.0])
def test_estimate_tempo_is_within_two_bpm_on_a_click_track(bpm: float) -> None:
    tempo = analysis.estimate_tempo(_at_16k(synth.click_track(bpm, 30.0)), 16_000)

    assert tempo.bpm == pytest.approx(bpm, abs=2.0)
    assert 0.0 < tempo.confidence <= 1.0


def test_estimate_tempo_gives_none_without_beats() -> None:
    tempo = analysis.estimate_tempo(np.zeros(16_000 * 5, dtype=np.float32) + 1e-3, 16_000)

    assert tempo.bpm is None
    assert tempo.confidence == 0.0


@pytest.mark.parametrize(
    ("chords", "expected"),
    [
        ([("A", "minor"), ("D", "minor"), ("E", "major"), ("A", "minor")], "A minor"),
        ([("C", "major"), ("F", "major"), ("G", "major"), ("C", "major")], "C major"),
        ([("Eb", "major"), ("Ab", "major"), ("Bb", "major"), ("Eb", "major")], "Eb major"),
        ([("F#", "minor"), ("B", "minor"), ("C#", "major"), ("F#", "minor")], "F# minor"),
    ],
)
def test_estimate_key_names_the_key_of_synthetic_chords(chords, expected: str) -> None:
    key = analysis.estimate_key(_at_16k(synth.chord_progression(chords, 16.0)), 16_000)

    assert key.name == expected
    assert 0.0 < key.confidence <= 1.0
    assert len(key.alternatives) == 4


def test_estimate_tempo_carries_beats_and_keeps_the_old_signature() -> None:
    audio = _at_16k(synth.click_track(100.0, 20.0))
    mel = np.ones((10, 96), dtype=np.float32)

    tempo = analysis.estimate_tempo(audio, 16_000, mel_power=mel)

    assert tempo.bpm == pytest.approx(100.0, abs=2.0)
    assert len(tempo.beats) >= 30
    assert all(isinstance(t, float) for t in tempo.beats)


def test_key_scores_rank_the_profile_itself_first() -> None:
    scores = analysis.key_scores(np.roll(analysis.MINOR_PROFILE, 9))  # A minor

    assert int(np.argmax(scores)) == 12 + 9


def test_estimate_tempo_reports_the_bar_of_the_learned_beats() -> None:
    from tests.worker.test_beats_bar import drum_pattern
    from worker.music import beatnet

    clip = librosa.resample(drum_pattern(120.0, 12.0), orig_sr=beatnet.SAMPLE_RATE, target_sr=16_000)

    tempo = analysis.estimate_tempo(clip, 16_000)

    assert tempo.beats_per_bar == 4
    assert tempo.downbeats
    assert set(tempo.downbeats) <= set(tempo.beats)
    assert all(isinstance(t, float) for t in tempo.downbeats)


def test_the_onset_estimators_beats_carry_no_bar() -> None:
    from worker.music import tempo_choice

    found = tempo_choice.estimate(_at_16k(synth.drums_and_bass(12.0)), 16_000)
    onset_beats = dataclasses.replace(found, beats=found.onset.beats)

    assert analysis.bar_of(onset_beats) == ((), None)
