"""Turning a prediction row into what the pages and the status endpoint show."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from core.fragments import version
from core.workers import model_readiness_cached
from worker.music.theory import SURE, confidence_word, octave_alternative, parse_key, related_keys
from worker.musicness import REASONS as NOT_MUSIC_REASONS

from .models import MAX_USER_TEMPO, MIN_USER_TEMPO, USER_GENRE_NONE, Prediction, stored_seconds
from .taxonomy import genre_choices, genre_name, served_model

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
    return _label(prediction, queue_note(prediction))


def _label(prediction: Prediction, note: QueueNote | None) -> str:
    """The card's headline, given the row's queue note (queue_note, asked once per request)."""
    if note:
        return note.headline
    if prediction.status == Status.PENDING:
        if prediction.error:  # released after a transient error, waiting for its retry
            return f"Waiting to retry: {prediction.error}"
        if prediction.queued_at is None:
            return "Queued; it will start when the job queue is back."
        return "Queued; waiting for a free worker…"
    if prediction.status == Status.RUNNING:
        return f"{prediction.get_stage_display()}…"
    return prediction.get_status_display()


@dataclass(frozen=True)
class QueueNote:
    """Why a queued song is still waiting: a short headline for the progress card and the rest."""

    headline: str
    detail: str

    @property
    def text(self) -> str:
        return f"{self.headline} {self.detail}"


QUEUE_NOTE_NO_WORKER = QueueNote(
    "Queued; no analysis worker is answering yet.",
    "If the site has just started, loading takes a minute or so; your song starts as soon as a "
    "worker is ready.",
)
QUEUE_NOTE_LOADING = QueueNote(
    "Queued; the analysis worker is loading the model.", "Your song starts as soon as it is ready."
)
QUEUE_NOTE_BACKGROUND = QueueNote(
    "Queued; the worker is finishing background work; your song is next.",
    "Background work (describing Freesound sounds) runs one short batch at a time, and songs go first.",
)


def queue_note(prediction: Prediction) -> QueueNote | None:
    """Why a song has waited in the queue for a while, when the workers' own answer tells (asked at
    most every few seconds, core.workers): no worker, the model loading, or a background batch
    finishing before the song; None when they are simply busy, or cannot be asked."""
    if prediction.status != Status.PENDING or prediction.error or prediction.queued_at is None:
        return None
    if (timezone.now() - prediction.queued_at).total_seconds() < settings.QUEUE_NOTE_AFTER_SECONDS:
        return None
    readiness = model_readiness_cached()
    if readiness is None:
        return None
    if readiness.ready:
        return QUEUE_NOTE_BACKGROUND if readiness.background else None
    return QUEUE_NOTE_LOADING if readiness.workers else QUEUE_NOTE_NO_WORKER


def rerun_offered(prediction: Prediction, served: tuple[str, str] | None = None) -> bool:
    """Whether running the job again can give another answer: after a failure that is not the
    song's fault, or when the workers now serve another model than the one that answered.
    served: taxonomy.served_model(), when the caller has it already (it costs a query)."""
    if prediction.status == Status.FAILED:
        return not prediction.input_error
    if prediction.status != Status.DONE:
        return False
    return (prediction.model_name, prediction.model_version) != (served or served_model())


@dataclass(frozen=True)
class TempoView:
    """The tempo as the page and the API show it."""

    bpm: float | None  # the user's, else the estimate
    estimate_bpm: float | None
    set_by_user: bool
    confidence: float | None
    confidence_word: str  # of the estimate: "sure", "fairly sure", "unsure" or ""
    alternative_bpm: float | None  # the estimate's second reading, shown while it is not sure
    # The estimate ×3/2 or ×2/3 when the estimator found it plausible, offered while it is not sure.
    metric_alternative_bpm: float | None = None
    beat_times: tuple[float, ...] = ()  # seconds into the excerpt, when the estimator gave them
    downbeat_times: tuple[float, ...] = ()  # each bar's "1", when the analysis found the bar
    beats_per_bar: int | None = None

    @property
    def first_downbeat(self) -> float | None:
        return self.downbeat_times[0] if self.downbeat_times else None

    @property
    def bar_words(self) -> str:
        """ "4 beats to the bar, the first “1” at 0.42 s", or the half of it that is known; "" when
        the bar is unknown."""
        parts = []
        if self.beats_per_bar:
            parts.append(f"{self.beats_per_bar} beat{'s' if self.beats_per_bar != 1 else ''} to the bar")
        if self.first_downbeat is not None:
            parts.append(f"the first “1” at {self.first_downbeat:.2f} s")
        return ", ".join(parts)

    @property
    def metric_label(self) -> str:
        """ "×3/2" or "×2/3": how the metric alternative relates to the estimate ("" without one)."""
        if not self.metric_alternative_bpm or not self.estimate_bpm:
            return ""
        return "×3/2" if self.metric_alternative_bpm > self.estimate_bpm else "×2/3"

    @property
    def double(self) -> float | None:
        """×2, while it stays a tempo a user may set."""
        return tempo_doubled(self.bpm)

    @property
    def half(self) -> float | None:
        """÷2, while it stays a tempo a user may set."""
        return tempo_halved(self.bpm)


def tempo_doubled(bpm: float | None) -> float | None:
    doubled = round(bpm * 2, 1) if bpm else None
    return doubled if doubled and doubled <= MAX_USER_TEMPO else None


def tempo_halved(bpm: float | None) -> float | None:
    halved = round(bpm / 2, 1) if bpm else None
    return halved if halved and halved >= MIN_USER_TEMPO else None


def tempo_metric(bpm: float, named: float | None) -> float | None:
    """`bpm` ×3/2 or ÷1.5 (to 0.1 BPM), as the stored `named` reading says, within what a user may
    set; None when there is no such reading."""
    if not named:
        return None
    metric = round(bpm * 1.5, 1) if named > bpm else round(bpm / 1.5, 1)
    return metric if MIN_USER_TEMPO <= metric <= MAX_USER_TEMPO else None


def tempo_view(prediction: Prediction) -> TempoView:
    estimate = prediction.tempo_bpm
    word = confidence_word(
        prediction.tempo_confidence, sure_at=settings.TEMPO_SURE_AT, unsure_below=settings.TEMPO_UNSURE_BELOW
    )
    if prediction.not_music:
        word = ""  # a beat found in noise or speech is no tempo to be sure of
    alternative = metric = None
    if estimate and word and word != SURE:
        # Whichever octave the estimator named (older rows stored its rival's unrefined lag), as the
        # ×2 and ÷2 buttons set it: "or 72.1 BPM?" beside a ÷2 that set 77.5 was issue 26.
        named = prediction.tempo_alternative_bpm or octave_alternative(estimate)
        alternative = tempo_doubled(estimate) if named > estimate else tempo_halved(estimate)
        metric = tempo_metric(estimate, prediction.tempo_metric_alternative_bpm)
    return TempoView(
        bpm=prediction.song_tempo_bpm,
        estimate_bpm=estimate,
        set_by_user=prediction.user_tempo_bpm is not None,
        confidence=prediction.tempo_confidence,
        confidence_word=word,
        alternative_bpm=alternative,
        metric_alternative_bpm=metric,
        beat_times=tuple(prediction.beat_times or ()),
        # No bar is claimed for noise or speech, as no confident tempo is.
        downbeat_times=() if prediction.not_music else tuple(stored_seconds(prediction.downbeat_times)),
        beats_per_bar=None if prediction.not_music else prediction.beats_per_bar or None,
    )


@dataclass(frozen=True)
class KeyChoice:
    name: str
    why: str  # "likely", "relative key", "parallel key", "a fifth up", "a fifth down", "the estimate"


@dataclass(frozen=True)
class KeyView:
    name: str  # the user's, else the estimate; "" when unknown
    estimate: str
    set_by_user: bool
    confidence: float | None
    confidence_word: str
    choices: tuple[KeyChoice, ...]  # the picker: likely alternatives first, then related keys


def key_view(prediction: Prediction) -> KeyView:
    return KeyView(
        name=prediction.song_key,
        estimate=prediction.key,
        set_by_user=bool(prediction.user_key),
        confidence=prediction.key_confidence,
        confidence_word=confidence_word(
            prediction.key_confidence, sure_at=settings.KEY_SURE_AT, unsure_below=settings.KEY_UNSURE_BELOW
        )
        if prediction.key and not prediction.not_music
        else "",
        choices=tuple(key_choices(prediction.song_key, prediction.key, prediction.key_alternatives)),
    )


def key_choices(current: str, estimate: str, likely: list[str]) -> list[KeyChoice]:
    """The estimate (when the user chose another key), the estimator's other likely keys in its
    order, then the keys related to the current one; each named by how it relates to the current
    key. Never the current key itself, each key once; empty when no key is known."""
    key = parse_key(current)
    if key is None:
        return []
    relation = {related.name: why for related, why in related_keys(key)}
    found: dict[str, str] = {}
    if estimate and estimate != key.name:
        found[estimate] = "the estimate"
    for name in likely:
        found.setdefault(name, relation.get(name, "likely"))
    for name, why in relation.items():
        found.setdefault(name, why)
    found.pop(key.name, None)
    return [KeyChoice(name, why) for name, why in found.items()]


@dataclass(frozen=True)
class GenreView:
    slug: str  # the genre samples are found for
    name: str
    set_by_user: bool
    none_of_these: bool  # the user said it is none of our genres
    choices: tuple[tuple[str, str], ...]


def genre_view(prediction: Prediction) -> GenreView:
    slug = prediction.song_genre
    return GenreView(
        slug=slug,
        name=genre_name(slug) if slug else "",
        set_by_user=bool(prediction.user_genre),
        none_of_these=prediction.user_genre == USER_GENRE_NONE,
        choices=tuple(genre_choices()),
    )


def progress_context(prediction: Prediction) -> dict[str, object]:
    """What the progress card shows: all the fragment htmx polls every second needs, and no more."""
    note = queue_note(prediction)
    return {
        "prediction": prediction,
        "progress": progress_percent(prediction),
        "progress_label": _label(prediction, note),
        "queue_note": note,
        "stages": [(stage, label) for stage, label in Stage.choices if stage],
    }


def prediction_context(prediction: Prediction) -> dict[str, object]:
    bars = genre_bars(prediction)
    served = served_model()
    return {
        **progress_context(prediction),
        "tempo_info": tempo_view(prediction),
        "key_info": key_view(prediction),
        "genre_info": genre_view(prediction),
        "genre_bars": bars,
        "top_three": bars[:3],
        "top_genre_name": genre_name(prediction.top_genre) if prediction.top_genre else "",
        "rerun_offered": rerun_offered(prediction, served),
        "not_music_reason": NOT_MUSIC_REASONS.get(prediction.sounds_like, "") if prediction.not_music else "",
        "served_model": " ".join(served),
    }


# Columns that no panel shows, or that change while nothing shown does (the worker's bookkeeping).
_NOT_SHOWN = frozenset(
    {
        "backbone_output",
        "timings",
        "heartbeat_at",
        "worker",
        "job_id",
        "attempts",
        "patches_read",
        "queued_at",
    }
)


def prediction_version(prediction: Prediction) -> str:
    """A version of what the pages show of the row: a hash of its values. A correction, the
    spectrogram's arrival or any other write to a shown column gives a new version, so a panel
    cached under it is never shown stale."""
    deferred = prediction.get_deferred_fields()
    return version(
        [
            getattr(prediction, f.attname)
            for f in Prediction._meta.concrete_fields
            if f.attname not in deferred and f.name not in _NOT_SHOWN
        ]
    )


def analysis_version(prediction: Prediction, served: tuple[str, str]) -> str:
    """The analysis panel's version: the row's, and the served model (it decides "Analyse again")."""
    return version(prediction_version(prediction), served)


def prediction_status_dict(prediction: Prediction) -> dict[str, object]:
    """The small JSON the page (or a script) polls."""
    return {
        "id": prediction.pk,
        "status": prediction.status,
        "stage": prediction.stage,
        "progress": progress_percent(prediction),
        "message": _status_message(prediction),
        "finished": prediction.is_finished,
        "top_genre": (prediction.top_genre or None) if not prediction.not_music else None,
        "sounds_like": prediction.sounds_like or None,
        "url": reverse("predictions:detail", args=[prediction.pk]),
    }


def _status_message(prediction: Prediction) -> str:
    if prediction.is_finished:
        return prediction.error
    note = queue_note(prediction)
    return note.text if note else _label(prediction, None)
