"""The user's corrections of a finished analysis: their tempo, key and genre, kept beside the
estimate (which stays as the model said it) and the admin's review."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from worker.music.theory import key_name

from .models import MAX_USER_TEMPO, MIN_USER_TEMPO, USER_GENRE_NONE, Prediction
from .signals import prediction_corrected
from .taxonomy import genre_choices, genre_name


class CorrectionError(ValueError):
    """A correction that cannot be stored; the message says why, for the user."""


@transaction.atomic
def prediction_correct(
    *,
    prediction: Prediction,
    tempo_bpm: float | None = None,
    key: str | None = None,
    genre: str | None = None,
    reset: tuple[str, ...] = (),
) -> list[str]:
    """Store the user's tempo, key and/or genre for a done prediction (apart from the estimate and
    the admin's review), or forget them (`reset`: "tempo", "key", "genre"). Validates everything
    before it writes anything. Returns the names that changed; the samples follow through the
    `prediction_corrected` signal."""
    if prediction.status != Prediction.Status.DONE:
        raise CorrectionError("Only a finished analysis can be corrected.")
    unknown = set(reset) - {"tempo", "key", "genre"}
    if unknown:
        raise CorrectionError(f"Nothing called {', '.join(sorted(unknown))} can be reset.")
    values: dict[str, object] = {}
    if tempo_bpm is not None:
        values["user_tempo_bpm"] = correction_tempo(tempo_bpm)
    if key is not None:
        values["user_key"] = correction_key(key)
    if genre is not None:
        values["user_genre"] = correction_genre(genre)
    for name in reset:
        field = _field_of(name)
        if field in values:
            raise CorrectionError(f"Either set the {name} or reset it, not both.")
        values[field] = None if name == "tempo" else ""
    if not values:
        raise CorrectionError("Say what to correct: a tempo, a key or a genre.")
    changed = [name for name in ("tempo", "key", "genre") if _field_of(name) in values]
    changed = [name for name in changed if getattr(prediction, _field_of(name)) != values[_field_of(name)]]
    if not changed:
        return []
    for field, value in values.items():
        setattr(prediction, field, value)
    prediction.corrected_at = timezone.now()
    prediction.save(update_fields=[*values, "corrected_at"])
    # Inside the transaction: the samples stage restarts with the correction or not at all.
    prediction_corrected.send(sender=Prediction, prediction_id=prediction.pk, fields=changed)
    return changed


def _field_of(name: str) -> str:
    return "user_tempo_bpm" if name == "tempo" else f"user_{name}"


def correction_tempo(bpm: float) -> float:
    if not MIN_USER_TEMPO <= bpm <= MAX_USER_TEMPO:
        raise CorrectionError(
            f"A tempo between {MIN_USER_TEMPO:.0f} and {MAX_USER_TEMPO:.0f} BPM, please (got {bpm:g})."
        )
    return round(float(bpm), 1)


def correction_key(key: str) -> str:
    name = key_name(key)
    if not name:
        raise CorrectionError(f"“{key[:20]}” is not a key; write it like “A minor” or “Eb major”.")
    return name


def correction_genre(genre: str) -> str:
    slugs = [slug for slug, _ in genre_choices()]
    if genre != USER_GENRE_NONE and genre not in slugs:
        raise CorrectionError(f"Choose one of {', '.join(genre_name(s) for s in slugs)}, or “none of these”.")
    return genre
