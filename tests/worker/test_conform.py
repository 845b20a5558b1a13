"""The conforming maths: the smallest compatible key shift, the tempo reading, the loop's length."""

from __future__ import annotations

import pytest

from worker.music.conform import conform_plan, key_shift, loop_beats, plausible_tempo, tempo_target
from worker.music.theory import MAJOR, MINOR, Key


def test_a_sample_in_the_song_key_is_not_shifted():
    shift = key_shift(Key(9, MINOR), Key(9, MINOR))
    assert (shift.semitones, shift.target, shift.relation) == (0, Key(9, MINOR), "the song's key")


def test_a_major_sample_goes_to_the_relative_major_of_a_minor_song():
    # C major against A minor: already the relative key, nothing to do.
    assert key_shift(Key(0, MAJOR), Key(9, MINOR)).semitones == 0
    # D major against A minor: down 2 to C major (the relative), not up 7.
    shift = key_shift(Key(2, MAJOR), Key(9, MINOR))
    assert (shift.semitones, shift.target.name) == (-2, "C major")


def test_the_smallest_shift_may_land_a_fifth_away():
    # C minor against A minor: the song's key is 3 down; D minor (a fifth below A) is 2 up.
    shift = key_shift(Key(0, MINOR), Key(9, MINOR))
    assert (shift.semitones, shift.target.name, shift.relation) == (
        2,
        "D minor",
        "a fifth below the song's key",
    )


def test_shifts_never_exceed_a_tritone():
    for sample in range(12):
        for song in range(12):
            for mode in (MAJOR, MINOR):
                assert -6 <= key_shift(Key(sample, mode), Key(song, MINOR)).semitones <= 5


@pytest.mark.parametrize(
    ("sample", "song", "target"),
    [(120, 96, 96), (170, 85, 170), (80, 160, 80), (100, 128, 128), (60, 170, 85)],
)
def test_the_tempo_target_is_the_song_reading_nearest_the_sample(sample, song, target):
    assert tempo_target(sample, song) == target


def test_a_loop_lasts_a_whole_number_of_beats():
    assert loop_beats(8.0, 120) == 16
    assert loop_beats(7.9, 120) == 16
    assert loop_beats(0.2, 120) == 1


def test_a_loop_plan_stretches_and_shifts_and_says_so():
    plan = conform_plan(sample_bpm=120, sample_key="C minor", duration_s=8.0, song_bpm=96, song_key="A minor")
    assert (plan.target_bpm, plan.semitones, plan.beats) == (96, 2, 16)
    assert plan.time_ratio(8.0) == pytest.approx(1.25)
    assert (
        plan.describe() == "stretched 120 → 96 BPM, +2 semitones (to D minor, a fifth below the song's key)"
    )


def test_a_one_shot_without_a_key_is_left_alone():
    plan = conform_plan(sample_bpm=None, sample_key="", duration_s=0.5, song_bpm=96, song_key="A minor")
    assert (plan.target_bpm, plan.semitones, plan.changes_anything) == (None, 0, False)
    assert plan.describe() == "timing kept (a one-shot), pitch kept (no key known)"


def test_a_tonal_one_shot_is_only_pitch_shifted():
    plan = conform_plan(
        sample_bpm=None, sample_key="G major", duration_s=1.0, song_bpm=96, song_key="E minor"
    )
    assert (plan.target_bpm, plan.semitones) == (None, 0)  # G major is E minor's relative
    plan = conform_plan(
        sample_bpm=None, sample_key="A major", duration_s=1.0, song_bpm=96, song_key="E minor"
    )
    assert (plan.target_bpm, plan.semitones, plan.target_key.name) == (None, -2, "G major")


@pytest.mark.parametrize(
    ("bpm", "duration_s", "plausible"),
    [
        (120, 8.0, True),  # 16 beats
        (124, 3.0, True),  # 6.2 beats: within a quarter of a beat
        (126, 3.0, False),  # 6.3 beats
        (999, 4.0, False),  # no loop is at 999 BPM
        (999, 3.0, False),  # even one that would hold 49.95 of its beats
        (30, 8.0, False),  # below the range
        (120, 0.3, False),  # not even one beat
    ],
)
def test_a_claimed_tempo_must_fit_the_loop(bpm, duration_s, plausible):
    assert plausible_tempo(bpm, duration_s) is plausible


def test_an_implausible_tempo_is_ignored_and_the_timing_kept():
    plan = conform_plan(sample_bpm=999, sample_key="C minor", duration_s=4.0, song_bpm=96, song_key="A minor")
    assert (plan.source_bpm, plan.target_bpm, plan.beats, plan.ignored_bpm) == (None, None, None, 999)
    assert plan.time_ratio(4.0) == 1.0
    assert plan.describe().startswith("timing kept (its 999 BPM does not fit its length), +2 semitones")
