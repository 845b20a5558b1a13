from __future__ import annotations

import librosa
import numpy as np
import pytest

from worker.audio import synth
from worker.music import tempo

FRAME_RATE = 62.5


def _pulses(bpm: float, seconds: float = 30.0, accent_every: int = 1, weak: float = 1.0) -> np.ndarray:
    """An onset envelope with a spike per beat; every `accent_every`-th beat full, the rest `weak`."""
    envelope = np.zeros(int(seconds * FRAME_RATE))
    for i, t in enumerate(np.arange(0.0, seconds, 60.0 / bpm)):
        envelope[int(round(t * FRAME_RATE))] = 1.0 if i % accent_every == 0 else weak
    return envelope


@pytest.mark.parametrize("bpm", [70.0, 96.0, 128.0, 150.0])
def test_from_envelope_finds_the_pulse_tempo_and_its_beats(bpm: float) -> None:
    found = tempo.from_envelope(_pulses(bpm), FRAME_RATE)

    assert found.bpm == pytest.approx(bpm, rel=0.02)
    assert np.median(np.diff(found.beats)) == pytest.approx(60.0 / bpm, rel=0.03)


def test_sub_frame_refinement_beats_the_frame_grid() -> None:
    # 131 BPM is 28.63 frames at 62.5 frames/s: the nearest whole lags give 130.9 +-4.6 BPM.
    found = tempo.from_envelope(_pulses(131.0), FRAME_RATE)

    assert found.bpm == pytest.approx(131.0, abs=1.0)


def test_confidence_is_high_for_a_steady_pulse_and_low_when_the_tempo_changes() -> None:
    steady = tempo.from_envelope(_pulses(120.0), FRAME_RATE)
    changing = tempo.from_envelope(np.concatenate([_pulses(100.0, 15.0), _pulses(137.0, 15.0)]), FRAME_RATE)

    assert steady.confidence > 0.9
    assert changing.confidence < 0.6
    assert 0.0 <= changing.confidence <= 1.0


def test_an_octave_as_salient_as_the_winner_is_reported_as_the_alternative() -> None:
    # Strong and weak beats alternating at 160 BPM: 80 and 160 are both plausible beats.
    ambiguous = tempo.from_envelope(_pulses(160.0, accent_every=2, weak=0.9), FRAME_RATE)
    clear = tempo.from_envelope(_pulses(120.0, accent_every=4, weak=0.3), FRAME_RATE)

    assert ambiguous.alternative_bpm is not None
    assert round(ambiguous.bpm / ambiguous.alternative_bpm, 1) in (2.0, 0.5)
    assert {round(ambiguous.bpm), round(ambiguous.alternative_bpm)} == {80, 160}
    assert clear.alternative_bpm is None


def test_salience_prior_is_ellis_log_gaussian_and_zero_outside_the_range() -> None:
    acf = np.ones(400)
    score = tempo.salience(acf, FRAME_RATE)
    bpm = 60.0 * FRAME_RATE / np.maximum(np.arange(400), 1)

    assert score[0] == 0.0
    assert np.all(score[bpm > tempo.MAX_BPM] == 0.0)
    at_120 = int(round(60.0 * FRAME_RATE / 120.0))
    one_octave_down = 2 * at_120
    # Same support (1.5) at both lags, so the ratio is the prior's: exp(-0.5 / 1.4**2).
    assert score[one_octave_down] / score[at_120] == pytest.approx(np.exp(-0.5 / 1.4**2), rel=0.02)


@pytest.mark.parametrize("bpm", [84.0, 140.0])
def test_estimate_on_audio_returns_tempo_and_beats_on_the_clicks(bpm: float) -> None:
    audio = librosa.resample(synth.click_track(bpm, 20.0), orig_sr=synth.SR, target_sr=16_000)

    found = tempo.estimate(audio, 16_000)

    assert found.bpm == pytest.approx(bpm, rel=0.02)
    clicks = np.arange(0.0, 20.0, 60.0 / bpm)
    nearest = np.abs(found.beats[:, None] - clicks[None, :]).min(axis=1)
    assert np.median(nearest) < 0.03


def test_silence_has_no_tempo() -> None:
    found = tempo.estimate(np.zeros(16_000 * 5, dtype=np.float32), 16_000)

    assert found.bpm is None
    assert found.confidence == 0.0
    assert len(found.beats) == 0
