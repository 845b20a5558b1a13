"""The inference benchmark's plumbing: which environment selects a runtime, which exports a run needs,
and the forked cold start (a child forked from this process loads the model and answers one clip, or
reports that it failed). The benchmark itself is run by hand; it prints figures, nothing to assert."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import soundfile as sf

from bench import inference
from worker.audio import synth


def test_runtime_env_names_the_runtime_and_only_the_settings_asked_for() -> None:
    assert inference.runtime_env("onnxruntime:fp32", 0) == {
        "SEVENFOUR_MODEL_RUNTIME": "onnxruntime:fp32",
        "SEVENFOUR_MODEL_EARLY_EXIT": "1",
    }
    assert inference.runtime_env("onnxruntime:int8@10", 2) == {
        "SEVENFOUR_MODEL_RUNTIME": "onnxruntime:int8",
        "SEVENFOUR_MODEL_EARLY_EXIT": "1",
        "SEVENFOUR_MODEL_BATCH": "10",
        "SEVENFOUR_MODEL_THREADS": "2",
    }


def test_a_runtime_ending_in_all_reads_every_patch() -> None:
    assert inference.runtime_env("tensorflow+all", 0) == {
        "SEVENFOUR_MODEL_RUNTIME": "tensorflow",
        "SEVENFOUR_MODEL_EARLY_EXIT": "0",
    }
    assert inference.runtime_env("onnxruntime:fp32@5+all", 0)["SEVENFOUR_MODEL_BATCH"] == "5"


def test_a_runtime_ending_in_p_n_reads_n_patches() -> None:
    assert inference.runtime_env("onnxruntime:int8+p3", 0) == {
        "SEVENFOUR_MODEL_RUNTIME": "onnxruntime:int8",
        "SEVENFOUR_MODEL_EARLY_EXIT": "1",
        "SEVENFOUR_MODEL_PATCHES": "3",
    }
    assert inference.export_variants(["onnxruntime:int8+p3", "onnxruntime:fp32@5+p2"]) == {"int8", "fp32"}


def test_export_variants_are_those_of_the_onnx_runtimes() -> None:
    runtimes = [
        "tensorflow+all",
        "onnxruntime:fp32@5",
        "openvino:bf16+all",
        "openvino:int8",
        "onnxruntime:int8",
    ]

    assert inference.export_variants(runtimes) == {"fp32", "int8"}
    assert inference.export_variants(["tensorflow"]) == set()


def test_a_forked_child_that_fails_is_reported_and_this_process_goes_on(tmp_path: Path) -> None:
    clip = tmp_path / "clip.wav"
    sf.write(clip, synth.piano_piece(3.0, seed=1), synth.SR)

    answer = inference.forked_cold_start(
        {"SEVENFOUR_MODEL_RUNTIME": "tflite:fp32"}, str(clip), str(tmp_path), png=False
    )

    assert "wait status" in answer["error"]
    assert not list(tmp_path.glob("fork-*"))


@pytest.mark.model
def test_a_forked_child_loads_the_model_and_answers_the_first_clip(tmp_path: Path) -> None:
    clip = tmp_path / "clip.wav"
    sf.write(clip, synth.drums_and_bass(10.0, seed=2), synth.SR)

    answer = inference.forked_cold_start(
        inference.runtime_env("onnxruntime:fp32", 0), str(clip), str(tmp_path), png=False
    )

    assert set(answer) == {"load_s", "first_s"}
    assert all(math.isfinite(seconds) and seconds > 0 for seconds in answer.values())
    assert (tmp_path / "fork-clip.npz").is_file()  # the child's prediction saved its mel
