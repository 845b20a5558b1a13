"""The bar from BeatNet's downbeat activation (worker.music.beats.bar): beats per bar and downbeats."""

from __future__ import annotations

import numpy as np
import pytest

from worker.music import beatnet, beats

FPS = beatnet.FPS


def steady_activations(
    bpm: float, meter: int, *, first_downbeat: int = 0, seconds: float = 20.0
) -> tuple[np.ndarray, np.ndarray]:
    """(activations, beat times): a beat every 60 / bpm s from 0.1 s, every `meter`-th of them from
    beat `first_downbeat` a downbeat."""
    activations = np.zeros((int(seconds * FPS), 2), dtype=np.float32)
    times = np.arange(0.1, seconds - 0.1, 60.0 / bpm)
    for n, t in enumerate(times):
        downbeat = (n - first_downbeat) % meter == 0
        activations[int(round(t * FPS)), 1 if downbeat else 0] = 0.9
    return activations, times


def drum_pattern(bpm: float, seconds: float) -> np.ndarray:
    """4/4 at 22.05 kHz: a louder kick on each downbeat, snare on 2 and 4, kick on 3, eighth-note
    hi-hats, and a chord that changes every bar. numpy only, seeded."""
    sr = beatnet.SAMPLE_RATE
    rng = np.random.default_rng(4)
    n = int(seconds * sr)
    out = np.zeros(n)
    beat = 60.0 / bpm
    k = np.arange(int(0.25 * sr)) / sr
    kick = np.sin(2 * np.pi * (50 * k + 2 * (1 - np.exp(-k * 30)))) * np.exp(-k * 18)
    snare = rng.standard_normal(len(k)) * np.exp(-k * 25) * 0.5
    hat = rng.standard_normal(len(k)) * np.exp(-k * 90) * 0.2

    def hit(start: float, sound: np.ndarray) -> None:
        i = int(round(start * sr))
        if i < n:
            out[i : i + len(sound)] += sound[: n - i]

    for b in range(int(seconds / beat) + 1):
        hit(b * beat, kick * 1.4 if b % 4 == 0 else kick if b % 4 == 2 else snare)
        hit(b * beat, hat)
        hit(b * beat + beat / 2, hat)
    t = np.arange(n) / sr
    for bar in range(int(seconds / (4 * beat)) + 1):
        root = (220.0, 174.6, 196.0, 146.8)[bar % 4]
        start, stop = int(bar * 4 * beat * sr), min(n, int((bar + 1) * 4 * beat * sr))
        for ratio in (1.0, 1.26, 1.5):
            out[start:stop] += 0.08 * np.sin(2 * np.pi * root * ratio * t[start:stop])
    return (0.5 * out / np.abs(out).max()).astype(np.float32)


@pytest.mark.parametrize(("meter", "first"), [(4, 0), (4, 3), (3, 0), (3, 2)])
def test_meter_and_downbeats_of_a_steady_activation(meter: int, first: int) -> None:
    activations, times = steady_activations(120.0, meter, first_downbeat=first)

    found = beats.from_activations(activations)

    assert found.beats_per_bar == meter
    # the tracker's last second is its own business (it may add or move a beat at the edge)
    expected = times[first::meter][times[first::meter] < 19.0]
    np.testing.assert_allclose(found.downbeats[: len(expected)], expected, atol=0.021)


def test_downbeats_are_beats() -> None:
    activations, _ = steady_activations(97.0, 4, first_downbeat=1)

    found = beats.from_activations(activations)

    assert len(found.downbeats) > 0
    assert set(found.downbeats.tolist()) <= set(found.beats.tolist())
    np.testing.assert_allclose(np.diff(np.searchsorted(found.beats, found.downbeats)), 4)


def test_a_flat_downbeat_activation_shows_no_bar() -> None:
    activations, _ = steady_activations(120.0, 4)
    activations[:, 0] += activations[:, 1]
    activations[:, 1] = 0.01  # the same small downbeat probability everywhere

    found = beats.from_activations(activations)

    assert found.bpm is not None
    assert len(found.beats) > 8
    assert found.beats_per_bar is None
    assert len(found.downbeats) == 0
    assert found.bar_s is None


def test_fewer_than_two_bars_of_beats_show_no_bar() -> None:
    downbeat = np.zeros(400, dtype=np.float32)
    frames = np.arange(10, 400, 50)[:7]
    downbeat[frames[::4]] = 0.9

    assert beats.bar(downbeat, frames) == (None, 0)


def test_three_needs_the_margin_over_four() -> None:
    # a downbeat every third beat, read as clearly three, unless the margin asks for more than it shows
    activations, _ = steady_activations(120.0, 3)
    frames = beats.track(activations.sum(axis=1), FPS, 120.0)

    assert beats.bar(activations[:, 1], frames)[0] == 3
    assert beats.bar(activations[:, 1], frames, three_margin=2.0)[0] == 4


def test_accented_downbeats_of_generated_drums() -> None:
    bpm, seconds = 120.0, 12.0
    clip = drum_pattern(bpm, seconds)

    found = beats.estimate(clip, beatnet.SAMPLE_RATE)

    assert found.beats_per_bar in (3, 4, None)
    assert set(found.downbeats.tolist()) <= set(found.beats.tolist())
    # unambiguous: four beats to the bar, each downbeat on a loud kick (a multiple of 2 s)
    assert found.beats_per_bar == 4
    bar_s = 4 * 60.0 / bpm
    offsets = found.downbeats / bar_s - np.round(found.downbeats / bar_s)
    np.testing.assert_allclose(offsets * bar_s, 0.0, atol=0.07)
    assert len(found.downbeats) >= 5
