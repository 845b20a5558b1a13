"""One entry point for the genre model: GenrePredictor.predict(path) -> PredictionResult.

The Celery task, the CLI, the benchmark and the training command all go through here. The backbone is
served by the runtime `worker.backbone.serving` names (an ONNX export; no TensorFlow unless
SEVENFOUR_MODEL_RUNTIME=tensorflow or a trained Keras head is used), loaded once per process on
`load()` or the first prediction, never at import: Celery's prefork parent imports task modules and
then forks, and a runtime's threads do not survive a fork.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from functools import cache, partial
from pathlib import Path
from typing import Any

import numpy as np

from worker import analysis, musicness
from worker.audio import features
from worker.audio.decode import load_audio
from worker.backbone import sequential
from worker.backbone.musicnn import BackboneOutput
from worker.backbone.sequential import PatchOutputs
from worker.backbone.serving import get_backbone
from worker.heads.genre_head import (
    DEFAULT_ARTIFACT_DIR,
    Artifact,
    Head,
    head_outside,
    load_artifact,
    load_head,
    outside_margin,
)

_backbone_lock = threading.Lock()
WARM_UP_PATCHES = 5  # the first stage of a 30 s clip (worker.backbone.sequential): the batch shape jobs use


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
    # Seconds per stage. "analysis" (tempo, key) runs beside "features" and "model", so the stages add
    # up to more than "total"; "analysis_wait" is how long the clip then still waited for it.
    timings: dict[str, float] = field(default_factory=dict)
    spectrogram_png: str | None = None
    spectrogram_mel: str | None = None  # the saved mel (worker.audio.spectrogram.save_mel), to draw later
    # Added for issue 11 (the page's "96 BPM, or 192?", key picker and play-along); older readers ignore them.
    tempo_alternative_bpm: float | None = None
    tempo_metric_alternative_bpm: float | None = None  # x3/2 or x2/3 when plausible (issue 24)
    beat_times: list[float] = field(default_factory=list)  # seconds from the excerpt start
    # Added for issue 24: the bar. Downbeats are among `beat_times`; None when the bar is unknown.
    downbeat_times: list[float] = field(default_factory=list)
    beats_per_bar: int | None = None
    key_alternatives: list[tuple[str, float]] = field(default_factory=list)  # relative, parallel, fifths
    # The clip's backbone output (worker.heads.fewshot.backbone_to_dict): stored so that few-shot
    # artifacts are built and any artifact evaluated from stored predictions, without the audio.
    backbone: dict[str, list[float]] | None = field(default=None, repr=False)
    # How many of the excerpt's 3 s patches the model read (worker.backbone.sequential: half, or all of them).
    patches_read: int = 0
    # Added for issue 26: worker.musicness's verdict ("music", "noise", "speech", "near_silence") and
    # the measures it was reached on.
    sounds_like: str = musicness.MUSIC
    musicness: dict[str, float] = field(default_factory=dict)

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
        data["key_alternatives"] = [list(pair) for pair in self.key_alternatives]
        data.pop("backbone")  # 500 numbers: for storage, not for reading
        return data


@cache
def _one_blas_thread() -> None:
    """Limit NumPy's BLAS to one thread in a process that runs the model.

    OpenBLAS keeps its threads spinning for a while after each call, so after the mel filter bank's
    matrix product (features, tempo, key) they took the cores from the model runtime's threads: a
    5-patch run took 120 ms instead of 82 (CPU 234 ms instead of 157) when it followed a feature
    extraction on this 2-core machine. Those products are small; one thread computes them as fast.
    SciPy ships its own OpenBLAS, loaded when librosa first imports scipy.linalg: it is loaded here
    first, so that the limit reaches it too.
    """
    import scipy.linalg  # noqa: F401
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


class GenrePredictor:
    def __init__(self, artifact: Artifact) -> None:
        self.artifact = artifact
        self._head: Head | None = None

    @property
    def head(self) -> Head:
        """The genre head (loaded on first use)."""
        if self._head is None:
            self.load()
        assert self._head is not None
        return self._head

    def load(self, *, warm_up: bool = False) -> None:
        """Load the backbone and the head now (otherwise the first predict() does).

        warm_up: also run the backbone once on silence, so that the runtime's first-run costs (memory
        planning, kernel selection) are not paid by the first real job.
        """
        with _backbone_lock:
            _one_blas_thread()
            backbone = get_backbone()
            if self._head is None:
                self._head = load_head(self.artifact)
        if warm_up:
            shape = (sequential.fixed_patches() or WARM_UP_PATCHES, features.PATCH_FRAMES, features.N_MELS)
            backbone(np.zeros(shape, np.float32))

    def predict(
        self,
        path: str | Path,
        *,
        spectrogram_png: str | Path | None = None,
        spectrogram_mel: str | Path | None = None,
    ) -> PredictionResult:
        """spectrogram_mel: save the mel the model saw there (cheap; the site draws it later, off the
        ML path). spectrogram_png: draw the picture now (the CLI; it imports Pillow)."""
        clock = _Clock()
        audio = load_audio(path)
        clock.lap("decode")
        # Tempo and key need only the samples: they run on another thread while the features and the
        # model run here (the model's runtime releases the GIL), so a clip waits for the longer of the
        # two, not their sum. Their own time is recorded as "analysis"; the stages then add up to
        # more than the total.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tempo-key") as pool:
            analysed = pool.submit(_analyse, audio.samples, audio.sample_rate)
            feats = features.extract(audio.samples, audio.sample_rate)
            clock.lap("features")
            self.load()
            clock.lap("load")
            output, probs, patches_read = self.score_patches(feats.patches)
            clock.lap("model")
            tempo, key, verdict, analysis_s = analysed.result()
            clock.lap("analysis_wait")
        clock.laps["analysis"] = round(analysis_s, 4)
        mel = png = None
        if spectrogram_mel is not None:
            from worker.audio.spectrogram import save_mel

            mel = str(save_mel(feats.mel_power, spectrogram_mel, start_s=audio.excerpt_start_s))
            clock.lap("save_mel")
        if spectrogram_png is not None:
            from worker.audio.spectrogram import render_png

            png = str(render_png(feats.mel_power, spectrogram_png, start_s=audio.excerpt_start_s))
            clock.lap("spectrogram")
        result = self._result(probs, output, tempo, key, audio, clock.finish(), png, mel, patches_read)
        return replace(result, sounds_like=verdict.kind, musicness=verdict.measures.to_dict())

    def score_patches(
        self, patches: np.ndarray, *, early_exit: bool | None = None
    ) -> tuple[BackboneOutput, np.ndarray, int]:
        """The clip's backbone output, the head's genre probabilities and how many patches were read:
        half of them first, the rest only when the top genre or the outside verdict is still in doubt
        (worker.backbone.sequential); every patch with early_exit=False. None: as
        SEVENFOUR_MODEL_EARLY_EXIT says; SEVENFOUR_MODEL_PATCHES=N reads N patches instead."""
        backbone = get_backbone()
        head = self.head

        def read(rows: np.ndarray) -> PatchOutputs:
            return PatchOutputs(*backbone.patch_outputs(patches[rows]))

        fixed = sequential.fixed_patches()
        if fixed is not None and early_exit is not False:
            return sequential.read_fixed(patches, read, head.predict, fixed)
        return sequential.read_clip(
            patches,
            read,
            head.predict,
            early_exit=sequential.enabled() if early_exit is None else early_exit,
            outside=partial(outside_margin, head),
        )

    def _result(
        self, probs, output: BackboneOutput, tempo, key, audio, timings, png, mel, patches_read
    ) -> PredictionResult:
        from worker.heads.fewshot import backbone_to_dict
        from worker.heads.genre_head import descriptive_tags

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
            spectrogram_mel=mel,
            tempo_alternative_bpm=tempo.alternative_bpm,
            tempo_metric_alternative_bpm=tempo.metric_alternative_bpm,
            beat_times=list(tempo.beats),
            downbeat_times=list(tempo.downbeats),
            beats_per_bar=tempo.beats_per_bar,
            key_alternatives=list(key.alternatives),
            backbone=backbone_to_dict(output),
            patches_read=patches_read,
        )


def _analyse(
    samples: np.ndarray, sample_rate: int
) -> tuple[analysis.Tempo, analysis.Key, musicness.Verdict, float]:
    started = time.perf_counter()
    tempo = analysis.estimate_tempo(samples, sample_rate)
    key = analysis.estimate_key(samples, sample_rate)
    verdict = musicness.judge(samples, sample_rate, pulse=tempo.pulse)
    return tempo, key, verdict, time.perf_counter() - started


def warm_up_analysis() -> None:
    """Import and run the feature and tempo/key code once on generated audio (no model involved).

    librosa compiles its beat tracker with numba when it is imported (about 2 s) and some helpers on
    first call; an ML worker does this once before forking its pool processes.
    """
    from worker.audio import synth
    from worker.audio.decode import _resample

    samples = _resample(synth.drums_and_bass(6.0), synth.SR, features.SAMPLE_RATE)
    features.extract(samples)
    analysis.estimate_tempo(samples, features.SAMPLE_RATE)
    analysis.estimate_key(samples, features.SAMPLE_RATE)


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
    """The predictor for an artifact folder (None: the shipped default), one per process and folder.

    The folder is only resolved here: its artifact.json is read once, when the folder is first seen,
    not on every job."""
    folder = Path(artifact_dir) if artifact_dir is not None else DEFAULT_ARTIFACT_DIR
    return _predictor_for(folder.resolve())


def default_artifact_info() -> dict[str, Any]:
    """Name, version, kind, labels and display names of the shipped artifact; no TensorFlow needed."""
    return load_artifact().info()
