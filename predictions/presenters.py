"""Turning a prediction row into what the pages and the status endpoint show."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from .models import Prediction
from .taxonomy import genre_name

Status = Prediction.Status
Stage = Prediction.Stage

# Rough share of the job done when each stage starts, for the progress bar.
_PROGRESS: dict[str, int] = {Stage.NONE: 5, Stage.DOWNLOADING: 15, Stage.ANALYSING: 45}


@dataclass(frozen=True)
class GenreBar:
    slug: str
    name: str
    probability: float

    @property
    def percent(self) -> float:
        return round(self.probability * 100, 1)


def genre_bars(prediction: Prediction) -> list[GenreBar]:
    bars = [GenreBar(slug, genre_name(slug), float(p)) for slug, p in prediction.genre_scores.items()]
    return sorted(bars, key=lambda bar: bar.probability, reverse=True)


def progress_percent(prediction: Prediction) -> int:
    if prediction.is_finished:
        return 100
    if prediction.status == Status.PENDING:
        return 5
    return _PROGRESS.get(prediction.stage, 10)


def progress_label(prediction: Prediction) -> str:
    if prediction.status == Status.PENDING:
        if prediction.error:  # released after a transient error, waiting for its retry
            return f"Waiting to retry: {prediction.error}"
        if prediction.queued_at is None:
            return "Queued; it will start when the job queue is back."
        return "Queued; waiting for a free worker…"
    if prediction.status == Status.RUNNING:
        return f"{prediction.get_stage_display()}…"
    return prediction.get_status_display()


def prediction_context(prediction: Prediction) -> dict[str, object]:
    bars = genre_bars(prediction)
    return {
        "prediction": prediction,
        "genre_bars": bars,
        "top_three": bars[:3],
        "top_genre_name": genre_name(prediction.top_genre) if prediction.top_genre else "",
        "progress": progress_percent(prediction),
        "progress_label": progress_label(prediction),
        "stages": [(stage, label) for stage, label in Stage.choices if stage],
    }


def prediction_status_dict(prediction: Prediction) -> dict[str, object]:
    """The small JSON the page (or a script) polls."""
    return {
        "id": prediction.pk,
        "status": prediction.status,
        "stage": prediction.stage,
        "progress": progress_percent(prediction),
        "message": progress_label(prediction) if not prediction.is_finished else prediction.error,
        "finished": prediction.is_finished,
        "top_genre": prediction.top_genre or None,
        "url": reverse("predictions:detail", args=[prediction.pk]),
    }
