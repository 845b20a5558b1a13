from __future__ import annotations

import numpy as np
import pytest

from corpus.compose import Mode, Style, compose, key_name


def _notes(piece, name: str):
    return next(i for i in piece.midi.instruments if i.name == name).notes


def test_same_style_and_seed_give_the_same_notes() -> None:
    style = Style("rock", 120.0, tonic=9, mode="minor")

    a, b = compose(style, seed=3), compose(style, seed=3)

    assert [(n.pitch, n.start) for n in _notes(a, "melody")] == [
        (n.pitch, n.start) for n in _notes(b, "melody")
    ]
    assert [(n.pitch, n.start) for n in _notes(a, "melody")] != [
        (n.pitch, n.start) for n in _notes(compose(style, seed=4), "melody")
    ]


@pytest.mark.parametrize("bpm", [60.0, 97.0, 174.0])
def test_beats_are_spaced_at_the_tempo(bpm: float) -> None:
    piece = compose(Style("rock", bpm, tonic=0), seed=0)

    assert piece.tempo == bpm
    assert np.allclose(np.diff(piece.beats), 60.0 / bpm)
    assert piece.beats[-1] < 30.0 <= piece.beats[-1] + 60.0 / bpm + 1e-9


def test_rubato_tempo_is_the_median_inter_beat_tempo() -> None:
    piece = compose(Style("ballad", 70.0, tonic=5, drums="ballad", rubato=0.08), seed=1)
    periods = np.diff(piece.beats)

    assert periods.std() > 0.01  # the tempo really wanders
    assert piece.tempo == pytest.approx(float(np.median(60.0 / periods)), abs=0.01)


@pytest.mark.parametrize(
    ("tonic", "mode", "expected"),
    [
        (9, "minor", "A minor"),
        (3, "major", "Eb major"),
        (2, "dorian", "D minor"),
        (7, "mixolydian", "G major"),
        (4, "blues", "E major"),
        (11, "minor_pentatonic", "B minor"),
    ],
)
def test_key_annotation_names_the_tonic_and_its_quality(tonic: int, mode: Mode, expected: str) -> None:
    assert key_name(tonic, mode) == expected
    assert compose(Style("x", 100.0, tonic=tonic, mode=mode), seed=0).key == expected


def test_melody_uses_only_the_mode_scale() -> None:
    piece = compose(Style("x", 110.0, tonic=2, mode="dorian"), seed=5)
    pcs = {(n.pitch - 2) % 12 for n in _notes(piece, "melody")}

    assert pcs <= {0, 2, 3, 5, 7, 9, 10}


def test_swing_puts_offbeat_eighths_at_two_thirds_of_the_beat() -> None:
    piece = compose(Style("swing", 120.0, tonic=0, swing=True, drums="rock"), seed=0)
    beat = 0.5
    hats = [n.start for n in _notes(piece, "drums") if n.pitch == 42]
    phases = {round(((t - 0.05) % beat) / beat, 1) for t in hats}

    assert phases <= {0.0, 0.7, 1.0}  # on the beat or at 2/3 (jittered by a few ms)
    assert 0.7 in phases


def test_drums_off_leaves_no_drum_track_and_three_four_has_three_beats_a_bar() -> None:
    piece = compose(Style("waltz", 90.0, tonic=0, meter=3, drums="none"), seed=0)

    assert not any(i.is_drum for i in piece.midi.instruments)
    assert np.allclose(piece.downbeats, piece.beats[::3])


def test_bad_style_is_refused() -> None:
    with pytest.raises(ValueError, match="meter"):
        Style("x", 100.0, tonic=0, meter=5)
    with pytest.raises(ValueError, match="instrument"):
        Style("x", 100.0, tonic=0, chords="kazoo")
