"""How the samples app follows the predictions app: it listens; predictions never imports samples."""

from __future__ import annotations

from typing import Any

from predictions.models import Prediction

from .stage import recommendation_run_restart, recommendation_run_start


def start_samples_stage(sender: object, *, prediction_id: int, **kwargs: Any) -> None:
    """A prediction is done: its samples are found by an I/O worker, so the ML worker is free.
    Audio that does not sound like music gets none (until its user names a genre: a correction)."""
    prediction = Prediction.objects.filter(pk=prediction_id).only("sounds_like", "user_genre").first()
    if prediction is None or not prediction.samples_offered:
        return
    recommendation_run_start(prediction_id=prediction_id)


def refresh_samples_after_correction(sender: object, *, prediction_id: int, **kwargs: Any) -> None:
    """The user corrected the tempo, key or genre: the samples follow at once."""
    recommendation_run_restart(prediction_id=prediction_id)
