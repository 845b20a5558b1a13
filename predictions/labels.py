"""The labels a prediction gives the next model: tempo, key and genre, each with where it came from.

- Tempo and key: the user's value where they set one, else the estimate (the admin does not
  review these).
- Genre: the user's label where they gave one, unless an admin reviewed the prediction after it
  (the admin sees the user's label beside the model's when reviewing); else the admin's review;
  else none. "none" (none of our genres) is a label too: an example of music outside them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import Prediction

USER, REVIEW, ESTIMATE = "user", "review", "estimate"


@dataclass(frozen=True)
class Labels:
    genre: str  # a genre slug, "none", or "" (unlabelled)
    genre_source: str  # USER, REVIEW or ""
    tempo_bpm: float | None
    tempo_source: str  # USER, ESTIMATE or ""
    key: str
    key_source: str


def prediction_labels(prediction: Prediction) -> Labels:
    genre, genre_source = _genre(prediction)
    tempo_source = (
        USER if prediction.user_tempo_bpm is not None else (ESTIMATE if prediction.tempo_bpm else "")
    )
    key_source = USER if prediction.user_key else (ESTIMATE if prediction.key else "")
    return Labels(
        genre=genre,
        genre_source=genre_source,
        tempo_bpm=prediction.song_tempo_bpm,
        tempo_source=tempo_source,
        key=prediction.song_key,
        key_source=key_source,
    )


def _genre(prediction: Prediction) -> tuple[str, str]:
    user, review = prediction.user_genre, prediction.reviewed_genre
    if user and review:
        later_review = (
            prediction.reviewed_at is not None
            and prediction.corrected_at is not None
            and prediction.reviewed_at > prediction.corrected_at
        )
        return (review, REVIEW) if later_review else (user, USER)
    if user:
        return user, USER
    if review:
        return review, REVIEW
    return "", ""
