"""Rendering the demo audio for real (FluidSynth, MP3), with a small library: same code, fewer variants."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from corpus import render
from demo.build import (
    BATCH_SECONDS,
    BuildReport,
    Item,
    audio_root,
    build,
    build_estimate,
    path_for,
    plan,
    programs_of,
    seconds_of,
)
from demo.content import catalog, library
from demo.music import MAX_PROGRAMS_PER_BATCH

needs_fluidsynth = pytest.mark.skipif(
    shutil.which("fluidsynth") is None or not render.DEFAULT_SOUNDFONT.is_file(),
    reason="needs Debian's fluidsynth and fluid-soundfont-gm",
)
SIZE = 0.1


def test_batches_fit_one_midi_file_and_share_the_work():
    items: list[Item] = [*catalog().tracks, *library()]
    groups = plan(items)

    assert sum(map(len, groups)) == len(items)
    for group in groups:
        assert len(set().union(*map(programs_of, group))) <= MAX_PROGRAMS_PER_BATCH
        if len(group) > 1:
            assert sum(map(seconds_of, group)) <= BATCH_SECONDS
    assert len(groups) >= 4  # enough batches for every core


def test_the_estimate_before_a_build_says_what_is_left_and_roughly_how_long(tmp_path):
    # The full demo on two cores: 2,497 s of music took 128 s on the host that measured RENDER_SPEED.
    line = build_estimate(tmp_path, workers=2)

    assert line.startswith(f"demo audio: rendering {len(catalog().tracks) + len(library())} files (")
    assert "up to about 2 min on 2 cores" in line
    assert "up to about 4 min on 1 core;" in build_estimate(tmp_path, workers=1)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildReport]:
    var_dir = tmp_path_factory.mktemp("demo-var")
    return var_dir, build(var_dir, size=SIZE, workers=2)


@needs_fluidsynth
def test_build_renders_every_preview_once_and_then_serves_from_the_cache(built):
    tmp_path, report = built
    tracks, sounds = catalog(SIZE).tracks, library(SIZE)

    assert report.rendered == len(tracks) + len(sounds)
    root = audio_root(tmp_path, SIZE)
    items: list[Item] = [*tracks, *sounds]
    for item in items:
        assert path_for(root, item).is_file()
    assert not list(root.rglob("*.part"))

    assert build_estimate(tmp_path, size=SIZE) == ""  # the build's summary says "all cached"
    again = build(tmp_path, size=SIZE)
    assert (again.rendered, again.cached) == (0, report.rendered)
    assert "all" in again.summary()


@needs_fluidsynth
def test_rendered_previews_are_music_of_the_described_length(built):
    tmp_path, _ = built
    root = audio_root(tmp_path, SIZE)
    track = catalog(SIZE).tracks[0]
    loop = next(s for s in library(SIZE) if s.is_loop and s.family.label == "House Drum Loop")
    shot = next(s for s in library(SIZE) if s.family.label == "Grand Piano Chord")

    expected: list[tuple[Item, float]] = [(track, 30.0), (loop, loop.duration), (shot, shot.duration)]
    for item, seconds in expected:
        audio, sr = sf.read(path_for(root, item))
        assert len(audio) / sr == pytest.approx(seconds, abs=0.1)  # MP3 framing adds a few ms
        rms = float(np.sqrt(np.mean(np.square(audio))))
        assert rms > 0.02, path_for(root, item).name  # not silence

    # A four-on-the-floor loop: a kick on every beat, so its onset strength repeats at the BPM.
    import librosa

    audio, sr = sf.read(path_for(root, loop))
    tempo = float(np.atleast_1d(librosa.beat.beat_track(y=audio.astype(np.float32), sr=sr)[0])[0])
    assert min(abs(tempo - loop.bpm * f) for f in (0.5, 1.0, 2.0)) < 4, (tempo, loop.bpm)
