"""Where the worker keeps the model files it builds itself (ONNX graphs exported or assembled from
pretrained weights): `$SEVENFOUR_MODEL_CACHE`, else `$VAR_DIR/models`, else `var/models` in the
checkout. worker.backbone.serving (the taggers) and worker.music.beatnet (the beat network) share it,
so one setting moves both."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "SEVENFOUR_MODEL_CACHE"
REPO_ROOT = Path(__file__).resolve().parents[1]


def cache_dir() -> Path:
    if configured := os.environ.get(CACHE_ENV):
        return Path(configured)
    var = os.environ.get("VAR_DIR")
    return (Path(var) if var else REPO_ROOT / "var") / "models"
