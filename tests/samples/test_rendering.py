"""Rubber Band renders on generated audio, measured: the tempo of a conformed click-track loop and
the pitch of a shifted tone."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest
import soundfile as sf

from samples.conform.rendering import RenderError, fitted_ratio, render
from tests.samples.audio_gen import RATE, click_loop, measured_bpm, measured_semitones, tone, wav_bytes

needs_rubberband = pytest.mark.skipif(shutil.which("rubberband") is None, reason="needs rubberband-cli")


def _decoded(wav: bytes) -> tuple[np.ndarray, int]:
    samples, rate = sf.read(io.BytesIO(wav), dtype="float32")
    return samples, rate


@needs_rubberband
@pytest.mark.parametrize(("source", "target"), [(120, 96), (90, 100), (124, 130), (100, 128)])
def test_a_conformed_loop_measures_within_one_percent_of_the_target_tempo(source, target):
    loop = click_loop(source, 16)
    assert measured_bpm(loop) == pytest.approx(source, rel=0.002)  # the measure itself is sound

    rendered = render(wav_bytes(loop), source_bpm=source, target_bpm=target, semitones=0, max_source_s=30)

    samples, rate = _decoded(rendered.wav)
    assert measured_bpm(samples, rate) == pytest.approx(target, rel=0.01)
    assert rendered.duration_s == pytest.approx(16 * 60 / target, abs=0.01)  # exactly 16 beats: it loops


@needs_rubberband
@pytest.mark.parametrize("semitones", [-5, -2, 1, 3, 6])
def test_a_pitch_shift_of_n_semitones_moves_a_tone_by_n(semitones):
    rendered = render(
        wav_bytes(tone(330.0)), source_bpm=None, target_bpm=None, semitones=semitones, max_source_s=30
    )

    samples, rate = _decoded(rendered.wav)
    assert measured_semitones(samples, 330.0, rate) == pytest.approx(semitones, abs=0.1)
    assert rendered.duration_s == pytest.approx(2.0, abs=0.01)  # the length is kept


@needs_rubberband
def test_stretch_and_shift_in_one_pass_as_44k1_16_bit_wav():
    source = tone(440.0, 4.0, rate=22050)
    rendered = render(wav_bytes(source, 22050), source_bpm=120, target_bpm=96, semitones=-3, max_source_s=30)

    info = sf.info(io.BytesIO(rendered.wav))
    assert (info.samplerate, info.subtype, info.format) == (RATE, "PCM_16", "WAV")
    assert info.duration == pytest.approx(5.0, abs=0.01)
    samples, rate = _decoded(rendered.wav)
    assert measured_semitones(samples, 440.0, rate) == pytest.approx(-3, abs=0.1)


def test_the_ratio_fits_a_whole_number_of_beats_counted_on_the_audio():
    # Freesound says 120 BPM; the preview lasts 7.9 s, so 16 beats: at 96 BPM they last 10 s.
    assert fitted_ratio(7.9, source_bpm=120, target_bpm=96) == pytest.approx(10.0 / 7.9)
    assert fitted_ratio(7.9, source_bpm=None, target_bpm=96) == 1.0


def test_too_long_a_sample_is_refused_with_a_reason():
    with pytest.raises(RenderError, match="only samples up to 5 s are conformed"):
        render(wav_bytes(tone(440.0, 6.0)), source_bpm=None, target_bpm=None, semitones=2, max_source_s=5)


def test_bytes_that_are_not_audio_are_refused_with_a_reason():
    with pytest.raises(RenderError, match="could not be decoded"):
        render(b"<html>not audio</html>", source_bpm=None, target_bpm=None, semitones=2, max_source_s=30)


def test_without_rubberband_on_path_a_render_says_conforming_is_off(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no rubberband (nor anything else)

    with pytest.raises(RenderError, match="rubberband-cli"):
        render(wav_bytes(tone(440.0)), source_bpm=None, target_bpm=None, semitones=2, max_source_s=30)
    # A render that changes nothing still works: it is only re-encoded.
    same = render(wav_bytes(tone(440.0)), source_bpm=None, target_bpm=None, semitones=0, max_source_s=30)
    assert same.duration_s == pytest.approx(2.0, abs=0.01)
