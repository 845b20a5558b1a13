"""Key and tempo relations, and confidence in words: the pure rules the pages and the samples share."""

from __future__ import annotations

import pytest

from worker.music.theory import (
    FAIRLY_SURE,
    SURE,
    UNSURE,
    Key,
    confidence_word,
    fifth_down,
    fifth_up,
    key_name,
    key_relation,
    octave_alternative,
    parallel,
    parse_key,
    related_keys,
    relative,
    tempo_relation,
)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("A minor", "A minor"),
        ("Bb Minor", "Bb minor"),
        ("A# min", "Bb minor"),
        ("Am", "A minor"),
        ("c#", "C# major"),
        ("Db major", "C# major"),
        ("Cb major", "B major"),
        ("E♭ major", "Eb major"),
        ("F#m", "F# minor"),
        ("Eb min", "Eb minor"),
        ("c", "C major"),
    ],
)
def test_keys_are_read_in_any_common_spelling(text, name):
    assert key_name(text) == name


@pytest.mark.parametrize("text", ["", "H minor", "A dorian", "A minor-ish", "120", "nonsense", None])
def test_what_is_not_a_key_reads_as_none(text):
    assert parse_key(text) is None
    assert key_name(text) == ""


def test_relative_parallel_and_fifths_of_a_minor_and_c_major():
    a_minor, c_major = parse_key("A minor"), parse_key("C major")
    assert relative(a_minor) == c_major
    assert relative(c_major) == a_minor
    assert parallel(a_minor) == Key(9, "major")
    assert fifth_up(a_minor).name == "E minor"
    assert fifth_down(a_minor).name == "D minor"
    assert fifth_up(parse_key("F major")).name == "C major"
    assert [(k.name, why) for k, why in related_keys(c_major)] == [
        ("A minor", "relative key"),
        ("C minor", "parallel key"),
        ("G major", "a fifth up"),
        ("F major", "a fifth down"),
    ]


@pytest.mark.parametrize(
    ("loop", "relation"),
    [
        ("A minor", "same key"),
        ("a minor", "same key"),
        ("C major", "relative key"),
        ("E minor", "a fifth up"),
        ("D minor", "a fifth down"),
        ("A major", "other key"),  # parallel: the third clashes
        ("F# minor", "other key"),
        ("", ""),
    ],
)
def test_how_a_loop_key_sits_with_a_song_in_a_minor(loop, relation):
    assert key_relation("A minor", loop) == relation


@pytest.mark.parametrize(
    ("loop_bpm", "relation"),
    [
        (96, "in tempo"),
        (90, "in tempo"),
        (102, "in tempo"),
        (103, "off tempo"),
        (48, "half-time"),
        (51, "half-time"),  # 102 at double: within the tolerance
        (192, "double-time"),
        (130, "off tempo"),
        (None, ""),
    ],
)
def test_how_a_loop_tempo_sits_with_a_song_at_96(loop_bpm, relation):
    assert tempo_relation(96, loop_bpm, 6) == relation


def test_no_song_tempo_no_relation():
    assert tempo_relation(None, 96, 6) == ""


def test_the_octave_alternative_doubles_a_slow_tempo_and_halves_a_fast_one():
    assert octave_alternative(96) == 192
    assert octave_alternative(132) == 66


@pytest.mark.parametrize(
    ("confidence", "word"), [(0.9, SURE), (0.6, SURE), (0.45, FAIRLY_SURE), (0.29, UNSURE), (None, "")]
)
def test_confidence_in_words(confidence, word):
    assert confidence_word(confidence, sure_at=0.6, unsure_below=0.3) == word
