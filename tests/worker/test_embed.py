"""Decoding samples for the audio index: one-shots shorter than a patch, silence, garbage."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from worker.audio import synth
from worker.audio.decode import NotAudioError, SilentAudioError
from worker.backbone.embed import clip_patches, decode_clip


def test_a_half_second_one_shot_fills_one_patch_by_repetition(tmp_path):
    path = tmp_path / "hit.wav"
    sf.write(path, synth.tone(220.0, 0.5), synth.SR)

    clip = decode_clip(path)

    assert clip.dtype == np.float32
    assert len(clip) == pytest.approx(8000, abs=200)  # 0.5 s at 16 kHz
    assert clip_patches(clip).shape == (1, 187, 96)


def test_long_previews_are_cut_to_their_first_30_seconds(tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, synth.click_track(120.0, 40.0), synth.SR)
    assert len(decode_clip(path)) == pytest.approx(30 * 16000, abs=400)


def test_silence_and_garbage_say_what_is_wrong(tmp_path):
    silent, garbage = tmp_path / "silent.wav", tmp_path / "garbage.mp3"
    sf.write(silent, np.zeros(22050, np.float32), synth.SR)
    garbage.write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x13\x37" * 4000)

    with pytest.raises(SilentAudioError):
        decode_clip(silent)
    with pytest.raises(NotAudioError):
        decode_clip(garbage)
