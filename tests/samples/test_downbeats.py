"""Issue 24.5: loops start on a downbeat. The song's grid carries the bar (its downbeats and beats
per bar) to the sample browser, and a conformed download lasts a whole number of the song's bars,
so dropped at bar 1 of a DAW and looped, the loop starts on a "1" every time round. The audio test
renders with the real Rubber Band and measures where the loop's start lands."""

from __future__ import annotations

import io
import json
import shutil

import numpy as np
import pytest
import soundfile as sf
from django.urls import reverse

from accounts.models import User
from fakeapis.freesound_catalogue import FreesoundCatalogue
from predictions.models import Prediction
from samples import freesound
from samples.conform import conforming, rendering
from samples.conform.conforming import BarFill, bar_fill, song_grid
from samples.library_rows import song_grid_json
from samples.models import ConformedRender, Sound
from samples.sounds import sound_upsert_many
from samples.tasks import conformed_render_task
from tests.predictions.factories import DonePredictionFactory
from tests.samples.audio_gen import RATE, click_loop, wav_bytes
from tests.samples.conftest import add_loops
from worker.music.conform import conform_plan

pytestmark = pytest.mark.django_db

needs_rubberband = pytest.mark.skipif(shutil.which("rubberband") is None, reason="needs rubberband-cli")

# A song at 120 BPM whose beats the analysis measured from 0.3 s, and whose first "1" is its
# third beat (0.8 s): loops must start there, not on the first beat.
BEATS = [round(0.3 + i * 0.5, 3) for i in range(58)]
DOWNBEATS = BEATS[1::4]


def _song(user: User, **fields: object) -> Prediction:
    defaults: dict[str, object] = {"tempo_bpm": 120.0, "key": "", "beat_times": BEATS}
    return DonePredictionFactory(owner=user, **{**defaults, **fields})


# --- The grid ---------------------------------------------------------------------------------------------


def test_the_grid_carries_the_measured_bar(user):
    grid = song_grid(_song(user, downbeat_times=DOWNBEATS, beats_per_bar=4))
    assert grid.beats_measured
    assert (grid.downbeat_times[:2], grid.beats_per_bar, grid.first_downbeat) == ([0.8, 2.8], 4, 0.8)
    as_read = json.loads(song_grid_json(_song(user, downbeat_times=DOWNBEATS, beats_per_bar=4)))
    assert (as_read["downbeats"][:2], as_read["beats_per_bar"], as_read["beats"][0]) == ([0.8, 2.8], 4, 0.3)


def test_a_grid_laid_from_the_users_tempo_starts_on_the_first_downbeat(user):
    song = _song(user, downbeat_times=DOWNBEATS, beats_per_bar=4, user_tempo_bpm=100.0)
    grid = song_grid(song)
    assert not grid.beats_measured
    assert grid.beat_times[:2] == [0.8, 1.4]  # from the first "1", at 100 BPM
    assert grid.downbeat_times[:3] == [0.8, 3.2, 5.6]  # every fourth laid beat


def test_an_unknown_bar_keeps_the_grid_from_the_first_beat_and_no_downbeats(user):
    grid = song_grid(_song(user, user_tempo_bpm=100.0))
    assert grid.beat_times[:2] == [0.3, 0.9]
    assert (grid.downbeat_times, grid.beats_per_bar) == ([], None)
    assert json.loads(song_grid_json(_song(user)))["downbeats"] == []


# --- Whole bars ------------------------------------------------------------------------------------------


def _plan(sample_bpm: float, duration_s: float, song_bpm: float = 120.0):
    return conform_plan(
        sample_bpm=sample_bpm, sample_key=None, duration_s=duration_s, song_bpm=song_bpm, song_key=None
    )


@pytest.mark.parametrize(
    ("sample_bpm", "beats", "per_bar", "fill"),
    [
        (100, 8, 4, BarFill(1, 2, 4)),  # already whole bars
        (100, 6, 4, BarFill(2, 3, 4)),  # 6 beats twice: 3 bars
        (100, 4, 3, BarFill(3, 4, 3)),  # a 4-beat loop in a waltz: 4 bars of 3
        (240, 4, 4, BarFill(2, 1, 4)),  # at double time its 4 beats last 2 of the song's
    ],
)
def test_a_loop_is_played_the_fewest_times_that_last_whole_bars(user, sample_bpm, beats, per_bar, fill):
    grid = song_grid(_song(user, downbeat_times=DOWNBEATS, beats_per_bar=per_bar))
    assert bar_fill(plan=_plan(sample_bpm, beats * 60 / sample_bpm), grid=grid, loop_s=4.0) == fill


def test_no_bar_known_a_one_shot_or_too_long_a_result_keeps_one_play(user, settings):
    bar = song_grid(_song(user, downbeat_times=DOWNBEATS, beats_per_bar=4))
    assert bar_fill(plan=_plan(100, 3.6), grid=song_grid(_song(user)), loop_s=3.0) == BarFill()
    one_shot = conform_plan(sample_bpm=None, sample_key=None, duration_s=0.5, song_bpm=120, song_key=None)
    assert bar_fill(plan=one_shot, grid=bar, loop_s=0.5) == BarFill()
    settings.CONFORM_MAX_OUTPUT_SECONDS = 5.0
    assert bar_fill(plan=_plan(100, 3.6), grid=bar, loop_s=3.0) == BarFill()  # twice would be 6 s


def test_the_bar_fill_is_said_in_words():
    assert BarFill(2, 3, 4).words == "played 2× to last 3 bars of 4 beats"
    assert BarFill(1, 1, 3).words == "1 bar of 3 beats"
    assert BarFill().words == ""


def test_a_wav_repeated_is_the_same_samples_end_to_end():
    clip = (np.linspace(-0.5, 0.5, 1000, dtype=np.float32)).reshape(-1, 1)
    repeated, rate = sf.read(rendering.wav_repeated(io.BytesIO(wav_bytes(clip)), 3), dtype="int16")
    once, _ = sf.read(io.BytesIO(wav_bytes(clip)), dtype="int16")
    assert rate == RATE
    assert np.array_equal(repeated, np.tile(once, 3))


# --- The audio: where the loop's start lands --------------------------------------------------------------


def accented_loop(bpm: float, beats: int) -> np.ndarray:
    """A loop of `beats` clicks whose first (its "1") is loud and the others soft, so the loop's
    start can be told apart in a render."""
    return click_loop(bpm, beats, first=0.9, others=0.2)


def loud_onsets(samples: np.ndarray, rate: int) -> list[float]:
    """Seconds at which the signal first passes half its peak, at least 0.1 s apart."""
    level = np.abs(samples if samples.ndim == 1 else samples.mean(axis=1))
    above = np.flatnonzero(level >= 0.5 * level.max())
    onsets: list[float] = []
    for index in above:
        if not onsets or index / rate - onsets[-1] > 0.1:
            onsets.append(index / rate)
    return onsets


@pytest.fixture
def six_beat_loop(fs: FreesoundCatalogue) -> Sound:
    """A 100 BPM loop of six beats (3.6 s), no key, whose preview is the accented click loop."""
    add_loops(fs, "waltz", n=1, bpm=100, duration=3.6)
    (sound,) = sound_upsert_many(results=freesound.search(query="waltz loop").results)
    fs.set_preview(sound.freesound_id, wav_bytes(accented_loop(100, 6)))
    return sound


def _download(client, song: Prediction, sound: Sound, capture) -> tuple[np.ndarray, int]:
    url = reverse("samples:conformed_download", args=[song.pk, sound.pk])
    with capture(execute=True):
        client.post(url)
    row = ConformedRender.objects.get(sound=sound)
    conformed_render_task.apply(args=(row.pk,))
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    data = b"".join(response.streaming_content)
    samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return samples, rate


@needs_rubberband
def test_a_conformed_download_starts_its_loop_on_every_bar_it_should(
    client, user, six_beat_loop, django_capture_on_commit_callbacks
):
    """Six beats at 100 BPM, stretched to 120 BPM in 4/4: played twice, 12 beats, 3 bars. Dropped
    at bar 1, the loop's "1" is at 0 s (bar 1) and at 3.0 s (its second time round), and the file
    ends on bar 4's downbeat, where a DAW's loop brings it back to its start."""
    client.force_login(user)
    song = _song(user, downbeat_times=DOWNBEATS, beats_per_bar=4)

    samples, rate = _download(client, song, six_beat_loop, django_capture_on_commit_callbacks)

    bar_s = 4 * 60 / 120
    assert samples.shape[0] / rate == pytest.approx(3 * bar_s, abs=0.001)
    starts = loud_onsets(samples, rate)
    assert len(starts) == 2
    intended = [0.0, 6 * 60 / 120]  # bar 1, then the loop's second time round
    offsets_ms = [abs(start - want) * 1000 for start, want in zip(starts, intended, strict=True)]
    assert max(offsets_ms) < 5.0, offsets_ms
    wait_page = client.get(
        reverse("samples:conformed_download", args=[song.pk, six_beat_loop.pk]) + "?waiting=1"
    )
    assert "played 2× to last 3 bars of 4 beats" in wait_page.content.decode()


@needs_rubberband
def test_without_the_bar_the_download_is_the_loop_once(
    client, user, six_beat_loop, django_capture_on_commit_callbacks
):
    client.force_login(user)
    samples, rate = _download(client, _song(user), six_beat_loop, django_capture_on_commit_callbacks)
    assert samples.shape[0] / rate == pytest.approx(6 * 60 / 120, abs=0.001)
    assert loud_onsets(samples, rate)[0] * 1000 < 5.0


@needs_rubberband
def test_a_pack_zips_conformed_loop_lasts_whole_bars_too(user, six_beat_loop):
    song = _song(user, downbeat_times=DOWNBEATS, beats_per_bar=4)
    conformed = conforming.conformed_file(sound=six_beat_loop, grid=song_grid(song), user=user)
    assert conformed.data is not None, conformed.error
    samples, rate = sf.read(io.BytesIO(conformed.data), dtype="float32", always_2d=True)
    assert samples.shape[0] / rate == pytest.approx(6.0, abs=0.001)
    assert [round(s, 2) for s in loud_onsets(samples, rate)] == [0.0, 3.0]
    assert conformed.description.endswith("played 2× to last 3 bars of 4 beats")


def test_the_grid_note_says_where_loops_start_and_only_when_the_bar_is_known(user):
    from django.template.loader import render_to_string

    def note(song: Prediction) -> str:
        grid = song_grid(song)
        browser = {"grid": grid, "grid_json": json.dumps(grid.as_json()), "current_pack": ""}
        return render_to_string("samples/includes/browser_bar.html", {"song": song, "browser": browser})

    known = note(_song(user, downbeat_times=DOWNBEATS, beats_per_bar=4))
    assert "loops start on the “1” at 0.80 s, 4 beats to the bar" in known
    assert "&quot;downbeats&quot;: [0.8, 2.8" in known
    assert "loops start on" not in note(_song(user))
