"""Off-beat emphasis (bench/offbeat_figure.py) on generated click patterns at known beats: no real music,
no accuracy threshold."""

from __future__ import annotations

import numpy as np

from bench import offbeat_figure as offbeat

SR = 16_000
BPM = 100.0
SECONDS = 20.0


def burst(freq_hz: float, length_s: float, decay_s: float) -> np.ndarray:
    t = np.arange(int(length_s * SR)) / SR
    return np.sin(2 * np.pi * freq_hz * t) * np.exp(-t / decay_s)


def chop() -> np.ndarray:
    """A short chord stab in the mid band: three partials with a fast decay."""
    return np.mean([burst(f, 0.08, 0.02) for f in (880.0, 1320.0, 1760.0)], axis=0)


def kick() -> np.ndarray:
    return burst(60.0, 0.15, 0.05)


def pattern(chops_off_beat: bool) -> tuple[np.ndarray, np.ndarray]:
    """A kick on every beat and a chop on every off-beat (or on every beat); the audio and the beats."""
    period = 60.0 / BPM
    beats = np.arange(0.5, SECONDS - 1.0, period)
    audio = np.zeros(int(SECONDS * SR))
    for beat in beats:
        for sound, at in ((kick(), beat), (chop(), beat + period / 2 if chops_off_beat else beat)):
            start = int(at * SR)
            audio[start : start + len(sound)] += sound
    return (0.5 * audio).astype(np.float32), beats


def test_chops_on_the_off_beats_score_higher_than_on_the_beats() -> None:
    off_audio, beats = pattern(chops_off_beat=True)
    on_audio, _ = pattern(chops_off_beat=False)
    off = offbeat.measure(off_audio, SR, beats)
    on = offbeat.measure(on_audio, SR, beats)
    assert off is not None
    assert on is not None
    assert off.emphasis > on.emphasis
    assert off.beat > 0 > on.beat  # the mid band is louder between the beats only for the skank


def test_tracker_at_double_tempo_still_sees_the_off_beats() -> None:
    """The same skank with the beat grid at twice the tempo: every other tracked beat is an off-beat,
    told apart by the kick in the low band."""
    audio, beats = pattern(chops_off_beat=True)
    doubled = np.sort(np.concatenate([beats, beats[:-1] + np.diff(beats) / 2]))
    found = offbeat.measure(audio, SR, doubled)
    assert found is not None
    assert found.pair > 0
    assert found.emphasis == max(found.beat, found.sub, found.pair)


def test_tracker_at_half_tempo_still_sees_the_off_beats() -> None:
    audio, beats = pattern(chops_off_beat=True)
    found = offbeat.measure(audio, SR, beats[::2])
    assert found is not None
    assert found.sub > 0


def test_silence_has_no_figure() -> None:
    _, beats = pattern(chops_off_beat=True)
    assert offbeat.measure(np.zeros(int(SECONDS * SR), np.float32), SR, beats) is None


def test_too_few_beats_or_too_short_audio_have_no_figure() -> None:
    audio, beats = pattern(chops_off_beat=True)
    assert offbeat.measure(audio, SR, beats[: offbeat.MIN_BEATS - 1]) is None
    assert offbeat.measure(audio[:500], SR, beats) is None
