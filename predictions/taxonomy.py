"""Genre names for display. The model artifact owns the label list; this only reads it."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from worker.genre_head import load_artifact


@cache
def genre_names() -> dict[str, str]:
    """slug → display name of the served model's genres, in the model's order (no TensorFlow import)."""
    info = load_artifact(settings.GENRE_MODEL_DIR or None).info()
    return dict(zip(info["labels"], info["display_names"], strict=True))


def genre_name(slug: str) -> str:
    return genre_names().get(slug) or slug.replace("-", " ").replace("_", " ").capitalize()


def genre_choices() -> list[tuple[str, str]]:
    return list(genre_names().items())


@cache
def served_model() -> tuple[str, str]:
    """(name, version) of the genre model the workers serve, read from its artifact (no TensorFlow)."""
    info = load_artifact(settings.GENRE_MODEL_DIR or None).info()
    return str(info["name"]), str(info["version"])
