"""One entry point for the genre model: GenrePredictor.predict(path) -> PredictionResult.

The Celery task, the CLI, the benchmark and the training command all go through here. TensorFlow is
loaded lazily, once per process, on the first prediction (never at import: Celery's prefork parent
imports task modules and then forks, and TensorFlow's state does not survive a fork).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from worker import analysis, features
from worker.audio import load_audio
from worker.genre_head import Artifact, Head, head_outside, load_artifact, load_head
from worker.musicnn import Backbone, BackboneOutput

_backbone_lock = threading.Lock()


@dataclass(frozen=True)
class PredictionResult:
    genres: dict[str, float]  # slug -> probability; the values sum to 1
    labels: list[str]
    display_names: list[str]
    top: list[tuple[str, float]]  # (slug, probability), most likely first
    tags: list[tuple[str, float]]  # strongest descriptive musicnn tags
    # e.g. "jazz" when that is what it really sounds like; "none" (OUTSIDE_UNNAMED): none of ours
    outside_taxonomy: str | None
    tempo_bpm: float | None
    tempo_confidence: float
    key: str | None  # e.g. "A minor"
    key_confidence: float
    duration_s: float  # of the whole file
    excerpt_start_s: float
    excerpt_s: float
    model_name: str
    model_version: str
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    spectrogram_png: str | None = None
    # The clip's backbone output (worker.fewshot.backbone_to_dict): stored so that few-shot
    # artifacts are built and any artifact evaluated from stored predictions, without the audio.
    backbone: dict[str, list[float]] | None = field(default=None, repr=False)

    @property
    def top_genre(self) -> str:
        return self.top[0][0]

    @property
    def top_display_name(self) -> str:
        return self.display_names[self.labels.index(self.top_genre)]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["top"] = [list(pair) for pair in self.top]
        data["tags"] = [list(pair) for pair in self.tags]
        data.pop("backbone")  # 500 numbers: for storage, not for reading
        return data


PRECISION_ENV = "SEVENFOUR_MODEL_PRECISION"


@cache
def get_backbone() -> Backbone:
    """The musicnn taggers, built once per process on first use.

    SEVENFOUR_MODEL_PRECISION=bfloat16 runs the convolutions in bfloat16: about 40 % faster on CPUs
    with AVX512-BF16/AMX, tag probabilities within about 5e-3 of the reference. Default float32.
    """
    return Backbone(os.environ.get(PRECISION_ENV, "float32"))


class GenrePredictor:
    def __init__(self, artifact: Artifact) -> None:
        self.artifact = artifact
        self._head: Head | None = None

    def load(self) -> None:
        """Load TensorFlow, the backbone and the head now (otherwise the first predict() does)."""
        with _backbone_lock:
            get_backbone()
            if self._head is None:
                self._head = load_head(self.artifact)

    def predict(self, path: str | Path, *, spectrogram_png: str | Path | None = None) -> PredictionResult:
        clock = _Clock()
        audio = load_audio(path)
        clock.lap("decode")
        feats = features.extract(audio.samples, audio.sample_rate)
        clock.lap("features")
        self.load()
        clock.lap("load")
        output = get_backbone()(feats.patches)  # every patch of the clip in one batch
        assert self._head is not None
        probs = self._head.predict(output, feats.patches)
        clock.lap("model")
        tempo = analysis.estimate_tempo(audio.samples, audio.sample_rate, mel_power=feats.mel_power)
        key = analysis.estimate_key(audio.samples, audio.sample_rate)
        clock.lap("analysis")
        png = None
        if spectrogram_png is not None:
            from worker.spectrogram import render_png

            png = str(render_png(feats.mel_power, spectrogram_png, start_s=audio.excerpt_start_s))
            clock.lap("spectrogram")
        return self._result(probs, output, tempo, key, audio, clock.finish(), png)

    def _result(self, probs, output: BackboneOutput, tempo, key, audio, timings, png) -> PredictionResult:
        from worker.fewshot import backbone_to_dict
        from worker.genre_head import descriptive_tags

        labels = list(self.artifact.labels)
        genres = {label: round(float(p), 6) for label, p in zip(labels, probs, strict=True)}
        top = sorted(genres.items(), key=lambda item: item[1], reverse=True)
        return PredictionResult(
            genres=genres,
            labels=labels,
            display_names=list(self.artifact.display_names),
            top=top,
            tags=descriptive_tags(output),
            outside_taxonomy=head_outside(self._head, output, probs) if self._head else None,
            tempo_bpm=tempo.bpm,
            tempo_confidence=round(tempo.confidence, 3),
            key=key.name,
            key_confidence=round(key.confidence, 3),
            duration_s=round(audio.duration_s, 3),
            excerpt_start_s=round(audio.excerpt_start_s, 3),
            excerpt_s=round(audio.excerpt_s, 3),
            model_name=self.artifact.name,
            model_version=self.artifact.version,
            timings=timings,
            spectrogram_png=png,
            backbone=backbone_to_dict(output),
        )


class _Clock:
    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self.last, 4)
        self.last = now

    def finish(self) -> dict[str, float]:
        self.laps["total"] = round(time.perf_counter() - self.start, 4)
        return self.laps


@cache
def _predictor_for(path: Path) -> GenrePredictor:
    return GenrePredictor(load_artifact(path))


def get_predictor(artifact_dir: str | Path | None = None) -> GenrePredictor:
    """The predictor for an artifact folder (None: the shipped default), one per process and folder."""
    artifact = load_artifact(artifact_dir)
    return _predictor_for(artifact.path)


def default_artifact_info() -> dict[str, Any]:
    """Name, version, kind, labels and display names of the shipped artifact; no TensorFlow needed."""
    return load_artifact().info()
