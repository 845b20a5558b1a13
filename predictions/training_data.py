"""Labelled predictions as training examples for `train_genre_model --from-reviews`: those an
admin reviewed and those whose user named the genre (predictions.labels decides which label wins;
"none of our genres" examples are kept apart, as music outside the genres).

Decision: we keep uploads (they are the user's file, in MEDIA_ROOT) and never store catalog
audio; a reviewed catalog prediction is re-resolved by its track id / ISRC and its preview fetched
again at training time. A track whose preview is gone is skipped and counted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from .labels import prediction_labels
from .models import USER_GENRE_NONE, Prediction
from .selectors import prediction_genre_labelled_list
from .services import prediction_audio_fetch

log = logging.getLogger(__name__)


@dataclass
class ReviewedExamples:
    examples: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    outside: list[Path] = field(default_factory=list)  # "none of our genres", by the user


def reviewed_examples_fetch(*, scratch: Path) -> ReviewedExamples:
    """Write the audio of every genre-labelled prediction under `scratch`; return (path, genre)
    pairs, and the paths of songs labelled as none of our genres."""
    found = ReviewedExamples()
    for prediction in prediction_genre_labelled_list():
        genre = prediction_labels(prediction).genre
        try:
            path = _audio_for(prediction, scratch)
        except Exception as exc:  # one lost preview must not stop the training run
            log.warning("Reviewed prediction %s skipped: %s", prediction.pk, exc)
            found.skipped.append((prediction.pk, str(exc)))
            continue
        if genre == USER_GENRE_NONE:
            found.outside.append(path)
        else:
            found.examples.append((path, genre))
    return found


def _audio_for(prediction: Prediction, scratch: Path) -> Path:
    return prediction_audio_fetch(prediction=prediction, dest=scratch / f"review-{prediction.pk}")
