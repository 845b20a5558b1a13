from __future__ import annotations

import librosa
import numpy as np
import pytest

from worker.audio import synth
from worker.music import key


def _profile_chroma(tonic: int, minor: bool) -> np.ndarray:
    return np.roll(key.MINOR_PROFILE if minor else key.MAJOR_PROFILE, tonic)


def test_profile_scores_rank_the_profile_itself_first() -> None:
    scores = key.profile_scores(_profile_chroma(9, minor=True))

    assert int(np.argmax(scores)) == 12 + 9
    assert scores.max() == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("third", "other_third", "sixth", "other_sixth", "expected"),
    [
        (0.9, 0.2, 0.5, 0.5, True),  # minor third clearly louder: minor whatever the sixth
        (0.2, 0.9, 0.5, 0.5, False),
        (0.5, 0.52, 0.9, 0.1, True),  # thirds within 10 %: the minor sixth decides
        (0.5, 0.52, 0.1, 0.9, False),
    ],
)
def test_mode_is_decided_by_the_third_then_the_sixth(
    third: float, other_third: float, sixth: float, other_sixth: float, expected: bool
) -> None:
    chroma = np.full(12, 0.3)
    tonic = 2  # D: minor third F (5), major third F# (6), minor sixth Bb (10), major sixth B (11)
    chroma[[5, 6, 10, 11]] = [third, other_third, sixth, other_sixth]

    minor, clarity = key.mode_by_third_and_sixth(chroma, tonic)

    assert minor is expected
    assert 0.0 <= clarity <= 1.0


def test_mode_decision_overrules_a_profile_that_prefers_the_parallel_key() -> None:
    # A C-major-profile chroma whose major third is replaced by a louder minor third: C minor.
    full = _profile_chroma(0, minor=False)
    full[3], full[4] = full[4] + 1.0, full[3]

    found = key.from_chroma(full, full)

    assert found.name == "C minor"


def test_alternatives_are_the_related_keys_ranked() -> None:
    found = key.from_chroma(_profile_chroma(7, minor=False), _profile_chroma(7, minor=False))  # G major

    assert found.name == "G major"
    names = [name for name, _ in found.alternatives]
    assert sorted(names) == sorted(["E minor", "G minor", "D major", "C major"])
    scores = [score for _, score in found.alternatives]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_flat_chroma_has_no_key() -> None:
    found = key.from_chroma(np.ones(12), np.ones(12))

    assert found.name is None
    assert found.confidence == 0.0


@pytest.mark.parametrize(
    ("chords", "expected"),
    [
        ([("A", "minor"), ("D", "minor"), ("E", "major"), ("A", "minor")], "A minor"),
        ([("Eb", "major"), ("Ab", "major"), ("Bb", "major"), ("Eb", "major")], "Eb major"),
    ],
)
def test_estimate_on_audio(chords: list[tuple[str, str]], expected: str) -> None:
    audio = librosa.resample(synth.chord_progression(chords, 16.0), orig_sr=synth.SR, target_sr=16_000)

    found = key.estimate(audio, 16_000)

    assert found.name == expected
    assert 0.0 < found.confidence <= 1.0


@pytest.mark.parametrize("cents", [0.0, 30.0, -40.0])
def test_tuning_is_estimated_and_the_key_survives_a_detuned_recording(cents: float) -> None:
    chords = [("D", "minor"), ("G", "minor"), ("A", "major"), ("D", "minor")]
    audio = librosa.resample(synth.chord_progression(chords, 16.0), orig_sr=synth.SR, target_sr=16_000)
    # Resampling by 2^(cents/1200) and playing at the nominal rate shifts every pitch by `cents`.
    shifted = librosa.resample(audio, orig_sr=16_000 * 2 ** (cents / 1200), target_sr=16_000)
    power = np.abs(librosa.stft(shifted, n_fft=8192, hop_length=4096)) ** 2
    freqs = librosa.fft_frequencies(sr=16_000, n_fft=8192)

    assert key.estimate_tuning(power.mean(axis=1), freqs) == pytest.approx(cents / 100, abs=0.05)
    assert key.estimate(shifted, 16_000).name == "D minor"


def test_drums_alone_have_no_key() -> None:
    rng = np.random.default_rng(0)
    noise_bursts = np.concatenate(
        [rng.standard_normal(1600) * np.exp(-np.arange(1600) / 200) for _ in range(300)]
    )

    found = key.estimate(noise_bursts.astype(np.float32), 16_000)

    assert found.name is None
    assert found.confidence == 0.0
