from __future__ import annotations

import json
from pathlib import Path

import pytest

from worker.audio.decode import NotAudioError, TooShortError
from worker.audio.features import HOP_LENGTH, SAMPLE_RATE
from worker.audio.spectrogram import load_mel
from worker.heads.genre_head import load_artifact
from worker.predictor import PredictionResult, get_predictor

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def drums_result(predictor, music, tmp_path_factory: pytest.TempPathFactory) -> PredictionResult:
    folder = tmp_path_factory.mktemp("spectrogram")
    return predictor.predict(
        music["mp3"], spectrogram_png=folder / "drums.png", spectrogram_mel=folder / "drums.npz"
    )


def test_predict_gives_probabilities_over_the_artifact_labels_summing_to_one(drums_result) -> None:
    artifact = load_artifact()

    assert drums_result.labels == list(artifact.labels)
    assert drums_result.display_names == list(artifact.display_names)
    assert list(drums_result.genres) == list(artifact.labels)
    assert sum(drums_result.genres.values()) == pytest.approx(1.0, abs=1e-5)
    assert [p for _, p in drums_result.top] == sorted(drums_result.genres.values(), reverse=True)


def test_predict_records_model_name_and_version(drums_result) -> None:
    artifact = load_artifact()

    assert (drums_result.model_name, drums_result.model_version) == (artifact.name, artifact.version)


def test_predict_reports_tempo_key_tags_and_timings(drums_result) -> None:
    assert drums_result.tempo_bpm == pytest.approx(124.0, abs=2.0)
    assert drums_result.key is not None
    assert drums_result.key.split()[1] in ("major", "minor")
    assert len(drums_result.tags) == 8
    assert {"decode", "features", "model", "analysis", "spectrogram", "total"} <= drums_result.timings.keys()
    assert drums_result.duration_s == pytest.approx(40.0, abs=0.2)


def test_predict_carries_beats_and_related_keys(drums_result) -> None:
    beats = drums_result.beat_times

    assert len(beats) > 40
    assert sorted(beats) == beats
    assert (beats[-1] - beats[0]) / (len(beats) - 1) == pytest.approx(60 / 124.0, rel=0.03)
    assert len(drums_result.key_alternatives) == 4
    assert 0.0 <= drums_result.tempo_confidence <= 1.0


def test_predict_writes_the_spectrogram_png(drums_result) -> None:
    assert Path(drums_result.spectrogram_png).read_bytes()[:4] == b"\x89PNG"


def test_predict_saves_the_mel_it_saw_for_drawing_later(drums_result) -> None:
    saved = load_mel(drums_result.spectrogram_mel)

    assert saved.db.shape[1] == 96
    assert saved.db.shape[0] * HOP_LENGTH / SAMPLE_RATE == pytest.approx(drums_result.excerpt_s, abs=0.1)
    assert saved.start_s == pytest.approx(drums_result.excerpt_start_s, abs=1e-3)
    assert "save_mel" in drums_result.timings


def test_to_dict_is_json_serialisable(drums_result) -> None:
    data = json.loads(json.dumps(drums_result.to_dict()))

    assert data["genres"] == drums_result.genres
    assert data["top"][0][0] == drums_result.top_genre
    assert data["key_alternatives"] == [list(pair) for pair in drums_result.key_alternatives]


def test_predict_tells_drums_and_bass_from_piano(predictor, music, drums_result) -> None:
    piano = predictor.predict(music["piano_mp3"])

    assert piano.genres["classical"] > drums_result.genres["classical"]
    assert drums_result.genres["dance"] + drums_result.genres["electronica"] > piano.genres["dance"]


def test_get_predictor_is_cached_per_artifact(predictor) -> None:
    assert get_predictor() is predictor
    assert get_predictor(load_artifact().path) is predictor


def test_predict_raises_typed_errors_for_bad_input(predictor, tmp_path: Path, sine) -> None:
    from tests.worker.conftest import write_audio

    junk = tmp_path / "junk.mp3"
    junk.write_text("not audio")

    with pytest.raises(NotAudioError):
        predictor.predict(junk)
    with pytest.raises(TooShortError):
        predictor.predict(write_audio(tmp_path / "short.wav", sine(1.0)))


def test_predict_says_how_many_patches_the_model_read(drums_result) -> None:
    # A 30 s excerpt is ten 3 s patches: the first half is always read, the rest when in doubt.
    assert drums_result.patches_read in (5, 10)
    assert drums_result.to_dict()["patches_read"] == drums_result.patches_read


def test_a_process_that_runs_the_model_gives_numpy_one_blas_thread(predictor) -> None:
    from threadpoolctl import threadpool_info

    predictor.load()

    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas
    assert all(pool["num_threads"] == 1 for pool in blas)
