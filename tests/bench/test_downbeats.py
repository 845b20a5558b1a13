"""bench/downbeats.py's parsing and its methods, on a made-up annotation and activations."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench import downbeats
from worker.music import beatnet


def test_gtzan_rhythm_beats_are_cut_to_the_excerpt() -> None:
    text = "0.5\t3\n1.0\t4\n1.5\t1\n2.0\t2\n2.5\t3\n3.0\t4\n3.5\t1\n"

    ref = downbeats.parse_beats(text, start_s=1.0, length_s=2.0)

    np.testing.assert_allclose(ref.beats, [0.0, 0.5, 1.0, 1.5, 2.0])
    np.testing.assert_allclose(ref.downbeats, [0.5])
    assert ref.beats_per_bar == 4


def test_only_gtzan_clips_are_listed(tmp_path: Path) -> None:
    (tmp_path / "annotations.tsv").write_text(
        "file\ttempo\tkey\tgenre\tsource\tsource_label\tfold\n"
        "audio/gtzan.blues.00001.wav\t67.77\tE minor\tblues\tgtzan\tblues\t0\n"
        "audio/ballroom.Media-105901.wav\t90.0\t\t\tballroom\tWaltz\t0\n"
    )

    assert downbeats.gtzan_clips(tmp_path) == [
        ("gtzan_blues_00001", tmp_path / "audio/gtzan.blues.00001.wav")
    ]


def test_the_methods_share_the_learned_beats() -> None:
    activations = np.zeros((int(20 * beatnet.FPS), 2), dtype=np.float32)
    for n, t in enumerate(np.arange(0.1, 19.9, 0.5)):
        activations[int(round(t * beatnet.FPS)), 1 if n % 4 == 1 else 0] = 0.9
    librosa_beats = np.arange(0.12, 19.9, 0.5)

    guesses = downbeats.guesses(activations, librosa_beats)

    learned = guesses["learned + bar (shipped)"]
    assert learned.beats_per_bar == 4
    np.testing.assert_allclose(learned.downbeats[:3], [0.6, 2.6, 4.6])
    np.testing.assert_allclose(guesses["learned, every 4th"].downbeats[:2], [0.1, 2.1])
    np.testing.assert_array_equal(guesses["librosa, every 4th"].downbeats, librosa_beats[::4])
    assert downbeats.f_measure(learned.downbeats, learned.downbeats) == 1.0
    assert np.isnan(downbeats.f_measure(np.array([1.0, 3.0]), learned.downbeats))  # before 5 s: trimmed
