"""The reported tempo: learned and onset estimates fused, a calibrated confidence, the octave
(worker.music.tempo_choice through worker.analysis.estimate_tempo), on generated audio and activations."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from worker import analysis
from worker.audio import synth
from worker.music import beatnet, beats, tempo_choice
from worker.music import tempo as onset_tempo

FPS = beatnet.FPS


def _at_16k(samples: np.ndarray) -> np.ndarray:
    return librosa.resample(samples, orig_sr=synth.SR, target_sr=16_000)


def _activations(bpm: float, seconds: float = 20.0, beats_per_bar: int = 4) -> np.ndarray:
    """BeatNet-like activations: a beat peak every period, the downbeat column on every bar's first."""
    act = np.full((int(seconds * FPS), 2), 0.01)
    for i, t in enumerate(np.arange(0.5, seconds - 0.5, 60.0 / bpm)):
        frame = int(round(t * FPS))
        act[frame, 1 if i % beats_per_bar == 0 else 0] = 0.9
    return act


def _onset(bpm: float | None, confidence: float) -> onset_tempo.TempoEstimate:
    times = np.arange(0.0, 20.0, 60.0 / bpm) if bpm else np.zeros(0)
    return onset_tempo.TempoEstimate(bpm, confidence, None, times)


@pytest.mark.parametrize("make", [synth.click_track, lambda bpm, s: synth.drums_and_bass(s, bpm=bpm)])
def test_a_steady_126_bpm_track_reads_126_0(make) -> None:
    """Issue 24: a song at 126.0 BPM read 125.7, so exact loops were stretched by 0.24 %."""
    tempo = analysis.estimate_tempo(_at_16k(make(126.0, 30.0)), 16_000)

    assert tempo.bpm == pytest.approx(126.0, abs=0.1)


def test_the_alternative_is_exactly_what_the_x2_or_half_button_sets() -> None:
    tempo = analysis.estimate_tempo(_at_16k(synth.drums_and_bass(20.0, bpm=100.0)), 16_000)

    assert tempo.bpm is not None
    assert tempo.alternative_bpm in (round(tempo.bpm * 2, 1), round(tempo.bpm / 2, 1))


def test_estimate_tempo_keeps_the_onset_pulse_for_the_musicness_check() -> None:
    samples = _at_16k(synth.click_track(110.0, 20.0))

    tempo = analysis.estimate_tempo(samples, 16_000)

    assert tempo.pulse == onset_tempo.estimate(samples, 16_000).confidence
    assert 0.0 < tempo.confidence < 1.0


def test_agreeing_estimators_and_clear_periodicity_raise_the_confidence() -> None:
    low = tempo_choice.confidence(tempo_choice.Measures(agree=False, pulse=0.3, periodicity=0.1))
    agreeing = tempo_choice.confidence(tempo_choice.Measures(agree=True, pulse=0.3, periodicity=0.1))
    steady = tempo_choice.confidence(tempo_choice.Measures(agree=True, pulse=1.0, periodicity=0.1))
    clear = tempo_choice.confidence(tempo_choice.Measures(agree=True, pulse=1.0, periodicity=0.8))

    assert 0.0 < low < agreeing < steady < clear < 1.0


def test_the_learned_tempo_and_its_beats_are_reported_when_the_onset_estimate_agrees() -> None:
    choice = tempo_choice.choose(_activations(120.0), _onset(121.0, 1.0))

    assert choice.bpm == pytest.approx(120.0, abs=0.2)
    assert choice.beats is choice.learned.beats
    assert choice.measures is not None
    assert choice.measures.agree
    assert choice.alternative_bpm in (round(choice.bpm * 2, 1), round(choice.bpm / 2, 1))


def test_a_sure_onset_octave_wins_and_brings_its_own_beats() -> None:
    onset = _onset(60.0, 1.0)

    choice = tempo_choice.choose(_activations(120.0), onset)

    assert choice.bpm == 60.0
    assert choice.beats is onset.beats
    assert choice.measures is not None
    assert not choice.measures.agree


def test_no_onsets_means_no_tempo_whatever_the_network_says() -> None:
    choice = tempo_choice.choose(_activations(120.0), onset_tempo.NO_TEMPO)

    assert choice.bpm is None
    assert choice.confidence == 0.0
    assert choice.alternative_bpm is None


def test_the_octave_stays_in_the_decoders_range() -> None:
    acf = beats.autocorrelation(_activations(200.0).sum(axis=1))

    assert tempo_choice.octave(acf, 200.0) == 100.0  # 400 is out of range
    assert tempo_choice.octave(acf, 30.0) == 60.0  # 15 is out of range
    assert tempo_choice.octave(acf, 600.0) is None


def _bumps(times: np.ndarray, seconds: float = 30.0) -> np.ndarray:
    """A beat activation with a narrow bump centred on each time, between frames."""
    frames = np.arange(int(seconds * FPS))
    return sum(np.exp(-0.5 * ((frames - t * FPS) / 0.6) ** 2) for t in times)


def test_the_beat_grid_takes_a_steady_track_to_its_own_decimals() -> None:
    times = np.arange(0.3, 29.5, 60.0 / 126.0)
    tracked = np.round(times * FPS) / FPS  # the tracker's beats sit on whole frames

    assert tempo_choice.grid_bpm(_bumps(times), tracked, 125.7) == 126.0


def test_the_beat_grid_leaves_rubato_to_the_comb() -> None:
    rng = np.random.default_rng(3)
    times = np.cumsum(rng.uniform(0.4, 0.6, 50))  # beats 60 ms either side of 120 BPM at random
    tracked = np.round(times * FPS) / FPS

    assert tempo_choice.grid_bpm(_bumps(times, 30.0), tracked, 119.0) == 119.0


def _pulses(*periods_s: float, seconds: float = 20.0) -> np.ndarray:
    """A beat activation with a peak every one of `periods_s` (a hemiola when two are given)."""
    beat = np.full(int(seconds * FPS), 0.01)
    for period in periods_s:
        for t in np.arange(0.5, seconds - 0.5, period):
            beat[int(round(t * FPS))] = 0.9
    return beat


def test_a_hemiola_offers_the_three_two_reading_exactly() -> None:
    """Beats at 120 BPM against accents every 0.75 s (80 BPM): x2/3 is plausible."""
    acf = beats.autocorrelation(_pulses(0.5, 0.75))

    assert tempo_choice.metric(acf, 120.0) == 80.0


def test_an_implausible_three_two_reading_is_not_offered() -> None:
    """Only the beat at 120 BPM: 80 and 180 BPM land between its peaks."""
    acf = beats.autocorrelation(_pulses(0.5))

    assert tempo_choice.metric(acf, 120.0) is None


def test_the_three_two_reading_stays_in_range() -> None:
    acf = beats.autocorrelation(_pulses(0.3, 0.45))

    assert tempo_choice.metric(acf, 200.0) in (None, round(200.0 / 1.5, 1))
    assert tempo_choice.metric(acf, 30.0) in (None, 45.0)


def test_a_click_track_offers_at_most_an_exact_three_two_reading_in_range() -> None:
    tempo = analysis.estimate_tempo(_at_16k(synth.click_track(120.0, 20.0)), 16_000)

    assert tempo.bpm is not None
    metric = tempo.metric_alternative_bpm
    assert metric is None or metric in (round(tempo.bpm * 1.5, 1), round(tempo.bpm / 1.5, 1))
    assert metric is None or 40.0 <= metric <= 250.0


def test_choose_carries_the_three_two_reading() -> None:
    activations = np.column_stack([_pulses(0.5, 0.75), np.full(int(20.0 * FPS), 0.01)])

    choice = tempo_choice.choose(activations, _onset(120.0, 1.0))

    assert choice.bpm is not None
    expected = tempo_choice.metric(beats.autocorrelation(activations.sum(axis=1)), choice.bpm)
    assert choice.metric_alternative_bpm == expected
    assert expected in (round(choice.bpm * 1.5, 1), round(choice.bpm / 1.5, 1))
