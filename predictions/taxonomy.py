"""Genre names for display, and the model that serves. The model artifact owns the label list; this
only reads it.

The genres are GENRE_MODEL_DIR's (else the shipped default's), read once per process: a deployment
setting, changed with a restart. A promoted version (predictions.learning) must predict the same
genres, so it changes the model behind them, not them; which model serves is read on each call.
"""

from __future__ import annotations

from functools import cache

from worker.heads.genre_head import load_artifact

from .learning import configured_folder, served_model_dir


@cache
def genre_names() -> dict[str, str]:
    """slug → display name of the site's genres, in the model's order (no TensorFlow import)."""
    info = load_artifact(configured_folder().path).info()
    return dict(zip(info["labels"], info["display_names"], strict=True))


def genre_name(slug: str) -> str:
    return genre_names().get(slug) or slug.replace("-", " ").replace("_", " ").capitalize()


def genre_choices() -> list[tuple[str, str]]:
    return list(genre_names().items())


def served_model() -> tuple[str, str]:
    """(name, version) of the genre model the workers serve now: the promoted version, else
    GENRE_MODEL_DIR's, else the shipped default's (one query; each artifact is read once)."""
    return _name_and_version(served_model_dir())


@cache
def _name_and_version(folder: str | None) -> tuple[str, str]:
    info = load_artifact(folder).info()  # no TensorFlow
    return str(info["name"]), str(info["version"])
