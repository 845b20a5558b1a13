"""The pure matching rules: slots per genre, filters, tempo windows, key, ranking and variety."""

from __future__ import annotations

from samples.recommend import (
    Candidate,
    GenreRules,
    allowed_licences,
    genre_slots,
    pick_varied,
    rank,
    sample_fit,
    samples_promise,
    search_filter,
    tempo_windows,
)

DANCE = GenreRules("dance", ("house loop",), ("cc0", "by"), "loop", 1.0, 30.0, 6)


def candidate(
    fid: int, *, author: str = "", pack: str = "", bpm: int | None = 124, key: str = ""
) -> Candidate:
    return Candidate(fid, author or f"a{fid}", pack, "cc0", 8.0, ("loop",), bpm, key)


def test_confident_prediction_gets_five_from_the_top_genre():
    slots = genre_slots(scores={"dance": 0.8, "pop": 0.2}, top_genre="dance", confidence=0.8, mix_below=0.5)

    assert slots == [("dance", 5)]


def test_unsure_prediction_mixes_in_the_second_genre():
    slots = genre_slots(
        scores={"dance": 0.4, "electronica": 0.35, "pop": 0.25},
        top_genre="dance",
        confidence=0.4,
        mix_below=0.5,
    )

    assert slots == [("dance", 3), ("electronica", 2)]


def test_filter_has_licences_duration_and_loop_tag():
    text = search_filter(DANCE, licences=("cc0", "by"))

    assert text == 'license:("Creative Commons 0" OR "Attribution") duration:[1 TO 30] tag:loop'


def test_filter_for_one_shots_and_any_kind():
    one_shot = GenreRules("classical", ("piano",), ("cc0",), "one-shot", 0.5, 10.0, 6)
    anything = GenreRules("classical", ("piano",), ("cc0",), "any", 0.5, 10.0, 6)

    assert "(tag:one-shot OR single_event:true)" in search_filter(one_shot, licences=("cc0",))
    assert "tag:" not in search_filter(anything, licences=("cc0",))


def test_filter_has_bpm_windows_around_tempo_double_and_half():
    windows = tempo_windows(124.4, 6)

    assert windows == [(118, 130), (243, 250), (56, 68)]
    assert search_filter(DANCE, licences=("cc0",), windows=windows).endswith(
        "(bpm:[118 TO 130] OR bpm:[243 TO 250] OR bpm:[56 TO 68])"
    )


def test_no_tempo_no_windows():
    assert tempo_windows(None, 6) == []
    assert tempo_windows(0, 6) == []


def test_noncommercial_only_when_the_user_opts_in():
    rules = GenreRules("dance", ("x",), ("cc0", "by", "by-nc"), "loop", 1, 30, 6)  # an admin ticked BY-NC

    assert allowed_licences(rules, allow_noncommercial=False) == ("cc0", "by")
    assert allowed_licences(DANCE, allow_noncommercial=True) == ("cc0", "by", "by-nc")


def test_rank_prefers_in_tempo_then_octave_off_then_key_then_closeness():
    far = candidate(1, bpm=100)
    in_tempo = candidate(2, bpm=128)
    in_tempo_closer = candidate(3, bpm=124)
    in_tempo_and_key = candidate(4, bpm=129, key="A minor")
    double_time = candidate(5, bpm=248)

    ranked = rank(
        [far, in_tempo, in_tempo_closer, in_tempo_and_key, double_time],
        tempo=124,
        key="A minor",
        tolerance=6,
        seed="s",
    )

    # In tempo first (4 in key too), then the double-time loop: it fits, but not "in tempo".
    assert [c.freesound_id for c, _, _ in ranked] == [4, 3, 2, 5, 1]
    assert ranked[3][1:] == (False, False)
    assert ranked[0][1:] == (True, True)
    assert ranked[-1][1:] == (False, False)


def test_picks_are_varied_across_packs_and_authors():
    same_pack = [candidate(i, pack="p1") for i in range(1, 7)]
    others = [candidate(10 + i, pack=f"p{10 + i}") for i in range(3)]
    one_author = [candidate(20 + i, author="prolific") for i in range(3)]
    ranked = rank(same_pack + one_author + others, tempo=124, key="", tolerance=6, seed="s")

    picks = pick_varied(ranked, genre="dance", count=5, exclude=set())

    ids = [p.freesound_id for p in picks]
    assert len(ids) == 5
    assert sum(1 for i in ids if i < 10) <= 1  # not five from one pack
    assert sum(1 for i in ids if 20 <= i < 30) <= 1


def test_variety_relaxes_when_there_is_nothing_else():
    ranked = rank([candidate(i, pack="p1") for i in range(1, 7)], tempo=124, key="", tolerance=6, seed="s")

    assert len(pick_varied(ranked, genre="dance", count=5, exclude={1})) == 5


def test_ranking_is_deterministic_for_a_seed():
    pool = [candidate(i) for i in range(1, 30)]

    first = rank(pool, tempo=124, key="", tolerance=6, seed="7:0")
    again = rank(list(reversed(pool)), tempo=124, key="", tolerance=6, seed="7:0")
    other = rank(pool, tempo=124, key="", tolerance=6, seed="7:1")

    assert first == again
    assert first != other


def test_rank_prefers_the_same_key_then_the_relative_then_a_fifth_then_others():
    pool = [
        candidate(1, key="F# minor"),  # other key
        candidate(2, key="E minor"),  # a fifth up from A minor
        candidate(3, key="C major"),  # relative
        candidate(4, key="A minor"),  # same
        candidate(5, key="A major"),  # parallel: does not mix
    ]
    ranked = rank(pool, tempo=124, key="A minor", tolerance=6, seed="s")
    assert [c.freesound_id for c, _, _ in ranked][:3] == [4, 3, 2]
    assert [in_key for _, _, in_key in ranked] == [True, False, False, False, False]


def test_a_card_says_in_tempo_only_within_the_tolerance():
    fit = sample_fit(song_bpm=96, song_key="", loop_bpm=101, loop_key="", tolerance=6)
    assert (fit.tempo, fit.in_tempo, fit.key) == ("in tempo", True, "")
    assert sample_fit(song_bpm=96, song_key="", loop_bpm=103, loop_key="", tolerance=6).tempo == "off tempo"


def test_a_card_calls_a_loop_at_half_or_double_the_tempo_half_time_or_double_time():
    half = sample_fit(song_bpm=96, song_key="", loop_bpm=48, loop_key="", tolerance=6)
    double = sample_fit(song_bpm=96, song_key="", loop_bpm=192, loop_key="", tolerance=6)
    assert (half.tempo, half.in_tempo, half.octave_off) == ("half-time", False, True)
    assert (double.tempo, double.in_tempo, double.octave_off) == ("double-time", False, True)


def test_the_header_promise_counts_what_the_cards_say():
    fits = [
        sample_fit(song_bpm=96, song_key="A minor", loop_bpm=bpm, loop_key=key, tolerance=6)
        for bpm, key in [(96, "A minor"), (98, "C major"), (192, "E minor"), (140, "Bb major"), (None, "")]
    ]
    promise = samples_promise(fits)
    assert (promise.total, promise.in_tempo, promise.octave_off) == (5, 2, 1)
    assert (promise.same_key, promise.key_mixes) == (1, 3)
