from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from predictions.models import Prediction
from tests.predictions.factories import PredictionFactory
from worker.audio import synth
from worker.heads.genre_head import load_artifact

pytestmark = pytest.mark.django_db


def _wav(samples: np.ndarray) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    sf.write(buffer, samples, synth.SR, format="WAV")
    return SimpleUploadedFile("clip.wav", buffer.getvalue())


def _reviewed_upload(user, genre: str, samples: np.ndarray) -> Prediction:
    return PredictionFactory(
        owner=user, source=Prediction.Source.UPLOAD, upload=_wav(samples), status=Prediction.Status.DONE,
        reviewed_genre=genre,
    )  # fmt: skip


def test_from_reviews_trains_on_reviewed_uploads_and_skips_what_it_cannot_fetch(
    user, tmp_path, capsys, monkeypatch
):
    for i in range(6):
        _reviewed_upload(user, "dance", synth.drums_and_bass(4.0, bpm=100 + 8 * i, seed=i))
        _reviewed_upload(user, "classical", synth.piano_piece(4.0, seed=i))
    PredictionFactory(owner=user, status=Prediction.Status.DONE)  # not reviewed: not training data
    lost = PredictionFactory(owner=user, status=Prediction.Status.DONE, reviewed_genre="rock")

    def no_preview(**kwargs):
        raise RuntimeError("this track has no preview")

    monkeypatch.setattr("catalog.previews.fetch_preview", no_preview)

    call_command("train_genre_model", "--from-reviews", "--arch", "conv1d", "--out", str(tmp_path / "m"))

    out = capsys.readouterr().out
    assert "Reviewed predictions: 12 usable, 1 skipped." in out
    assert f"skipped prediction {lost.pk}: this track has no preview" in out
    assert load_artifact(tmp_path / "m").labels == ("classical", "dance")


def test_the_command_needs_data_or_reviews():
    with pytest.raises(CommandError, match="Give --data DIR, --from-reviews, or both."):
        call_command("train_genre_model")


def test_the_users_genre_labels_are_training_data_and_none_of_these_is_kept_apart(user, tmp_path):
    from django.utils import timezone

    from predictions.training_data import reviewed_examples_fetch

    clip = synth.piano_piece(2.0, seed=1)
    named = PredictionFactory(
        owner=user, source=Prediction.Source.UPLOAD, upload=_wav(clip), status=Prediction.Status.DONE,
        user_genre="rnb", corrected_at=timezone.now(),
    )  # fmt: skip
    outside = PredictionFactory(
        owner=user, source=Prediction.Source.UPLOAD, upload=_wav(clip), status=Prediction.Status.DONE,
        user_genre="none", corrected_at=timezone.now(),
    )  # fmt: skip
    _reviewed_upload(user, "classical", clip)
    PredictionFactory(  # a tempo correction alone is no genre label
        owner=user, source=Prediction.Source.UPLOAD, upload=_wav(clip), status=Prediction.Status.DONE,
        user_tempo_bpm=90.0, corrected_at=timezone.now(),
    )  # fmt: skip

    found = reviewed_examples_fetch(scratch=tmp_path)

    assert sorted(genre for _, genre in found.examples) == ["classical", "rnb"]
    assert (tmp_path / f"review-{named.pk}") in [path for path, _ in found.examples]
    assert found.outside == [tmp_path / f"review-{outside.pk}"]
    assert all(path.stat().st_size > 1000 for path, _ in found.examples)
