"""Writes for the samples app: recommendations for a prediction, the local Freesound index,
packs and their ZIP exports. Freesound problems never escape `recommendations_create_for_prediction`."""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import IO

from celery import signature as signature_of
from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from core.jobs import DATABASE_ERRORS, heartbeat, heartbeat_stopped, orphaned, task_send
from predictions.models import USER_GENRE_NONE, Prediction

from . import freesound
from .budget import FreesoundBudget, default_budget
from .conform.conforming import conformed_file, song_grid
from .downloads import PreviewError, PreviewMissing, preview_fetch
from .freesound import FreesoundError, FreesoundSound, MissingApiKey, NotFound, Throttled
from .indexing import audio_index_kick, process_index, sound_vectors
from .licences import licence_from_url
from .models import (
    GenreSearch,
    Pack,
    PackExport,
    PackItem,
    Recommendation,
    RecommendationRun,
    SamplePreference,
    Sound,
)
from .recommend import (
    SLOTS,
    Candidate,
    GenreRules,
    Pick,
    allowed_licences,
    eligible,
    fits_tempo,
    genre_slots,
    licence_filter,
    pick_varied,
    query_for,
    rank,
    search_filter,
    tempo_windows,
)
from .selectors import samples_message_for
from .similarity import rank_by_sound, song_vectors
from .zips import Conform, ConformedFile, ConformTarget, Progress, ZipSound, zip_write

log = logging.getLogger(__name__)

LIVE_PAGE_SIZE = 150  # a full page costs one request, like a small one, and fills the index
MATERIAL_PER_SLOT = 3  # candidates wanted per slot, so the picks can vary by pack and author
PACK_MAX_ITEMS = 100
RETRY_ATTEMPTS = 3
SAMPLES_FAILURE = "Samples could not be fetched this time. Use “More like these” to try again."

# The tasks (samples/tasks.py) are sent by name: the tasks module imports this one. None is routed
# to the ML queue, so they all run on the I/O workers (the default `celery` queue).
RECOMMEND_TASK = "samples.recommend_for_prediction"
RETRY_RECOMMENDATIONS_TASK = "samples.retry_recommendations"
BUILD_PACK_ZIP_TASK = "samples.build_pack_zip"
REFRESH_INDEX_TASK = "samples.refresh_index"
SWEEP_RUNS_TASK = "samples.sweep_runs"
SWEEP_EXPORTS_TASK = "samples.sweep_exports"


# --- Sounds -------------------------------------------------------------------------------------------


def _sound_fields(result: FreesoundSound) -> dict:
    images = result.images
    return {
        "name": result.name[:300],
        "author": result.username[:150],
        "licence_url": result.license,
        "licence": licence_from_url(result.license),
        "duration": result.duration,
        "tags": [t.lower() for t in result.tags][:40],
        "bpm": result.bpm if result.bpm and 0 < result.bpm < 1000 else None,
        "key": (result.tonality or "")[:16],
        "pack_uri": result.pack or "",
        "page_url": result.url or f"https://freesound.org/s/{result.id}/",
        "preview_url": result.preview_hq_mp3,
        "image_url": images.get("waveform_m") or images.get("spectral_m") or "",
    }


def sound_upsert_many(*, results: list[FreesoundSound], genre: GenreSearch | None = None) -> list[Sound]:
    """Store what Freesound returned (it is the newest truth), linked to the genre it was found for."""
    # A cached search may still list a sound Freesound has since removed: keep it removed.
    removed = set(
        Sound.objects.filter(freesound_id__in=[r.id for r in results], removed=True).values_list(
            "freesound_id", flat=True
        )
    )
    previews = dict(
        Sound.objects.filter(freesound_id__in=[r.id for r in results]).values_list(
            "freesound_id", "preview_url"
        )
    )
    sounds, new = [], False
    for result in results:
        if not result.preview_hq_mp3 or result.id in removed:
            continue  # nothing to play or download
        sound, created = Sound.objects.update_or_create(
            freesound_id=result.id, defaults=_sound_fields(result)
        )
        sounds.append(sound)
        moved = not created and previews.get(result.id) != sound.preview_url
        if moved:  # another file behind the sound: listen to it again
            Sound.objects.filter(pk=sound.pk).update(audio_status=Sound.AudioStatus.PENDING, audio_attempts=0)
        new = new or created or moved
    if genre is not None and sounds:
        genre.sounds.add(*sounds)
    if new:
        audio_index_kick()  # new sounds join the audio index as they arrive
    return sounds


def sound_refresh(*, sound: Sound, budget: FreesoundBudget | None = None) -> Sound | None:
    """Ask Freesound for the sound again; None (and marked removed) when it answers 404."""
    try:
        result = freesound.sound_get(sound_id=sound.freesound_id, budget=budget)
    except NotFound:
        Sound.objects.filter(pk=sound.pk).update(removed=True)
        sound.removed = True
        return None
    for name, value in _sound_fields(result).items():
        setattr(sound, name, value)
    sound.removed = False
    sound.save()
    return sound


# --- Recommendations ------------------------------------------------------------------------------------


@dataclass
class _Outcome:
    picks: list[Pick] = field(default_factory=list)
    error: FreesoundError | None = None
    why: dict[int, str] = field(default_factory=dict)  # freesound id -> "sounds close: …"


def genre_rules(genre: GenreSearch) -> GenreRules:
    return GenreRules(
        slug=genre.slug,
        queries=tuple(genre.query_list),
        licences=tuple(genre.licences or ()),
        kind=genre.kind,
        min_duration=genre.min_duration,
        max_duration=genre.max_duration,
        bpm_tolerance=genre.bpm_tolerance,
    )


def _allows_noncommercial(user_id: int) -> bool:
    return SamplePreference.objects.filter(user_id=user_id, allow_noncommercial=True).exists()


def _candidates(
    genre: GenreSearch, rules: GenreRules, licences: tuple[str, ...], exclude: set[int]
) -> list[Candidate]:
    rows = genre.sounds.filter(removed=False, licence__in=licences).exclude(freesound_id__in=exclude)
    candidates = [
        Candidate(s.freesound_id, s.author, s.pack_uri, s.licence, s.duration, tuple(s.tags), s.bpm, s.key)
        for s in rows.only("freesound_id", "author", "pack_uri", "licence", "duration", "tags", "bpm", "key")
    ]
    return [c for c in candidates if eligible(c, rules, licences)]


def _live_search(
    genre: GenreSearch,
    rules: GenreRules,
    *,
    licences: Sequence[str],
    windows: Sequence[tuple[int, int]],
    turn: int,
    page: int = 1,
) -> None:
    result = freesound.search(
        query=query_for(rules, turn=turn),
        filter=search_filter(rules, licences=licences, windows=windows),
        sort="downloads_desc",
        page=page,
        page_size=LIVE_PAGE_SIZE,
    )
    sound_upsert_many(results=result.results, genre=genre)


def _picks_for_genre(
    genre: GenreSearch,
    *,
    prediction: Prediction,
    count: int,
    exclude: set[int],
    licences: tuple[str, ...],
    batch: int,
) -> _Outcome:
    """The index first; live searches only when it has too few (tempo-matched first, then genre-only)."""
    rules = genre_rules(genre)
    windows = tempo_windows(prediction.song_tempo_bpm, rules.bpm_tolerance)
    turn = prediction.pk + batch
    outcome = _Outcome()
    candidates = _candidates(genre, rules, licences, exclude)
    try:
        if windows and sum(fits_tempo(c.bpm, windows) for c in candidates) < count:
            _live_search(genre, rules, licences=licences, windows=windows, turn=turn)
            candidates = _candidates(genre, rules, licences, exclude)
        if len(candidates) < count * MATERIAL_PER_SLOT:
            _live_search(
                genre,
                rules,
                licences=licences,
                windows=(),
                turn=turn,
                page=1 + batch // len(rules.queries or [1]),
            )
            candidates = _candidates(genre, rules, licences, exclude)
    except FreesoundError as exc:
        log.warning("Freesound search for %s failed: %s (%s)", genre.slug, exc, exc.detail)
        outcome.error = exc
    song = song_vectors(prediction.backbone_output)
    vectors = sound_vectors([c.freesound_id for c in candidates]) if song is not None else {}
    if song is None or not vectors:
        # No song vectors (analysed before they were stored) or no candidate heard yet: nothing to
        # compare, so the tempo and key rules alone, exactly as without the audio index.
        ranked = rank(
            candidates,
            tempo=prediction.song_tempo_bpm,
            key=prediction.song_key,
            tolerance=rules.bpm_tolerance,
            seed=f"{prediction.pk}:{batch}",
        )
    else:
        scored = rank_by_sound(
            candidates,
            song=song,
            vectors=vectors,
            tempo=prediction.song_tempo_bpm,
            key=prediction.song_key,
            tolerance=rules.bpm_tolerance,
            seed=f"{prediction.pk}:{batch}",
            song_tags=[(str(name), float(p)) for name, p in prediction.tags or []],
        )
        ranked = [(s.candidate, s.in_tempo, s.in_key) for s in scored]
        outcome.why = {s.candidate.freesound_id: s.why for s in scored if s.why}
    outcome.picks = pick_varied(ranked, genre=genre.slug, count=count, exclude=exclude)
    return outcome


def _choose(prediction: Prediction, *, batch: int, exclude: set[int]) -> _Outcome:
    licences_for = partial(allowed_licences, allow_noncommercial=_allows_noncommercial(prediction.owner_id))
    slots = genre_slots(
        scores=prediction.genre_scores or {},
        top_genre=prediction.song_genre,
        confidence=_genre_confidence(prediction),
        mix_below=settings.SAMPLES_MIX_BELOW_CONFIDENCE,
    )
    genres = GenreSearch.objects.filter(enabled=True).in_bulk([slug for slug, _ in slots], field_name="slug")
    total = _Outcome()
    # The top genre goes last a second time to fill slots the runner-up could not.
    fill = [(slots[0][0], SLOTS)] if len(slots) > 1 else []
    for slug, count in [*slots, *fill]:
        genre = genres.get(slug)
        missing = min(count, SLOTS - len(total.picks))
        if genre is None or missing <= 0:
            continue
        rules = genre_rules(genre)
        outcome = _picks_for_genre(
            genre,
            prediction=prediction,
            count=missing,
            exclude=exclude,
            licences=licences_for(rules),
            batch=batch,
        )
        total.picks += outcome.picks
        total.why |= outcome.why
        exclude |= {p.freesound_id for p in outcome.picks}
        total.error = total.error or outcome.error
    return total


def _genre_confidence(prediction: Prediction) -> float | None:
    """A genre the user named is certain (all five samples from it); "none of these" is not, so
    the samples mix the model's two best guesses; otherwise the model's own confidence."""
    if prediction.user_genre:
        return 0.0 if prediction.user_genre == USER_GENRE_NONE else 1.0
    return prediction.confidence


def recommendations_create_for_prediction(
    *, prediction: Prediction, batch: int | None = None
) -> list[Recommendation]:
    """The samples stage's work, and "More like these" (the next batch). Never raises for
    Freesound problems: the stage's message says what happened and what to do."""
    existing = Recommendation.objects.filter(prediction=prediction)
    if batch is None:
        batch = (existing.aggregate(m=Max("batch"))["m"] + 1) if existing.exists() else 0
    exclude = set(existing.values_list("sound__freesound_id", flat=True))
    outcome = _choose(prediction, batch=batch, exclude=exclude)
    created = _save_picks(prediction, outcome.picks, batch=batch, why=outcome.why)
    samples_message_set(prediction=prediction, message=_message(outcome, shown=len(created)))
    if (
        outcome.error is not None
        and isinstance(outcome.error, Throttled)
        and not existing.exists()
        and not created
    ):
        _schedule_retry(prediction.pk, outcome.error.retry_after, attempt=1)
    return created


@transaction.atomic
def _save_picks(
    prediction: Prediction, picks: list[Pick], *, batch: int, why: dict[int, str] | None = None
) -> list[Recommendation]:
    sounds = Sound.objects.in_bulk([p.freesound_id for p in picks], field_name="freesound_id")
    start = Recommendation.objects.filter(prediction=prediction).aggregate(m=Max("rank"))["m"] or 0
    rows = [
        Recommendation(
            prediction=prediction,
            sound=sounds[p.freesound_id],
            rank=start + i,
            batch=batch,
            genre=p.genre,
            matched_tempo=p.matched_tempo,
            matched_key=p.matched_key,
            why=(why or {}).get(p.freesound_id, "")[:120],
        )
        for i, p in enumerate(picks, start=1)
    ]
    return Recommendation.objects.bulk_create(rows)


def _message(outcome: _Outcome, *, shown: int) -> str:
    error = outcome.error
    if shown >= SLOTS:
        return ""
    if error is None and shown:
        return (
            f"Only {shown} of {SLOTS} samples: Freesound has no more sounds for this genre's search "
            "with an allowed licence and length that are not shown already. “More like these” looks "
            "again later (new sounds are uploaded every day); an admin can widen the search in the admin."
        )
    if isinstance(error, Throttled):
        when = timezone.now() + timedelta(seconds=error.retry_after)
        limit = "daily" if error.daily else "per-minute"
        return (
            f"Freesound is busy (its {limit} rate limit is reached); samples will be retried automatically, "
            f"or use “More like these” after {when:%H:%M} UTC."
        )
    if isinstance(error, MissingApiKey | freesound.BadCredentials):
        return str(error)
    if error is not None:
        return "Freesound is not answering right now; use “More like these” in a few minutes to try again."
    return (
        "No Freesound samples fit this genre's search settings; use “More like these” to look further, "
        "or an admin can widen them (licences, duration) in the admin."
    )


def samples_message_set(*, prediction: Prediction, message: str) -> None:
    """Say on the prediction's samples stage why there are no (or few) samples; "" clears it."""
    RecommendationRun.objects.update_or_create(
        prediction=prediction,
        defaults={"message": message[:300]},
        # "More like these" on a prediction from before samples were a stage of their own.
        create_defaults={"message": message[:300], "status": RecommendationRun.Status.DONE},
    )


def _schedule_retry(prediction_id: int, countdown: int, *, attempt: int) -> None:
    task = signature_of(RETRY_RECOMMENDATIONS_TASK, args=[prediction_id, attempt], countdown=countdown)
    # robust: a broker outage must not undo the prediction's result; the page still says to retry.
    transaction.on_commit(task.apply_async, robust=True)


# --- The samples stage of a prediction ----------------------------------------------------------------


def recommendation_run_start(*, prediction_id: int) -> None:
    """A prediction is done: record its samples stage as pending and send it to the I/O workers
    once the transaction commits."""
    RecommendationRun.objects.get_or_create(prediction_id=prediction_id)
    transaction.on_commit(partial(recommendation_run_enqueue, prediction_id=prediction_id))


@transaction.atomic
def recommendation_run_restart(*, prediction_id: int) -> None:
    """The user corrected the song's tempo, key or genre: the samples shown no longer follow it, so
    they go and the stage runs again with the corrected values (the page shows "Finding samples…"
    until then). Saved packs keep their sounds: they hold sounds, not recommendations."""
    if not Prediction.objects.filter(pk=prediction_id, status=Prediction.Status.DONE).exists():
        return
    Recommendation.objects.filter(prediction_id=prediction_id).delete()
    RecommendationRun.objects.update_or_create(
        prediction_id=prediction_id,
        defaults={
            "status": RecommendationRun.Status.PENDING,
            "message": "",
            "queued_at": None,
            "started_at": None,
            "finished_at": None,
        },
    )
    transaction.on_commit(partial(recommendation_run_enqueue, prediction_id=prediction_id))


def recommendation_run_enqueue(*, prediction_id: int) -> bool:
    """Send the samples task. A broker outage leaves the stage pending (the analysis is shown
    anyway) for the sweep to send again, so this logs and returns False instead of raising."""
    if not task_send(
        RECOMMEND_TASK, prediction_id, waiting=f"samples for prediction {prediction_id} wait for the sweep"
    ):
        return False
    RecommendationRun.objects.filter(
        prediction_id=prediction_id, status=RecommendationRun.Status.PENDING
    ).update(queued_at=timezone.now())
    return True


def _message_may_be_lost(now: datetime) -> Q:
    """Pending job rows sent (or created unsent) longer than PREDICTION_REQUEUE_AFTER ago: their
    task message may be lost, so the sweep sends them again."""
    requeue_before = now - timedelta(seconds=settings.PREDICTION_REQUEUE_AFTER)
    return Q(queued_at__lt=requeue_before) | Q(queued_at__isnull=True, created_at__lt=requeue_before)


@dataclass(frozen=True)
class RunSweepReport:
    requeued: int
    failed: int


def recommendation_run_sweep(*, now: datetime | None = None) -> RunSweepReport:
    """Send pending samples stages again whose message may be lost, and fail running ones whose
    worker is gone, so no page says "Finding samples…" for ever."""
    now = now or timezone.now()
    waiting = RecommendationRun.objects.filter(status=RecommendationRun.Status.PENDING).filter(
        _message_may_be_lost(now)
    )
    requeued = sum(
        recommendation_run_enqueue(prediction_id=pk) for pk in waiting.values_list("prediction_id", flat=True)
    )
    stale_before = now - timedelta(seconds=settings.PREDICTION_STALE_AFTER)
    failed = RecommendationRun.objects.filter(
        status=RecommendationRun.Status.RUNNING, started_at__lt=stale_before
    ).update(status=RecommendationRun.Status.FAILED, message=SAMPLES_FAILURE, finished_at=now)
    return RunSweepReport(requeued=requeued, failed=failed)


def recommendation_run(*, prediction_id: int) -> None:
    """The samples stage. Claims its row (pending → running) so a duplicate message is a no-op;
    any failure ends the stage, never the prediction, which stays done with its analysis."""
    claimed = RecommendationRun.objects.filter(
        prediction_id=prediction_id, status=RecommendationRun.Status.PENDING
    ).update(status=RecommendationRun.Status.RUNNING, started_at=timezone.now())
    if not claimed:
        log.info("Samples for prediction %s are not pending; nothing to do", prediction_id)
        return
    prediction = Prediction.objects.get(pk=prediction_id)
    try:
        # A run makes the first batch from the song's values as they are now; anything left from an
        # earlier run (the values were corrected since) is replaced.
        Recommendation.objects.filter(prediction=prediction).delete()
        recommendations_create_for_prediction(prediction=prediction, batch=0)
    except Exception:  # a bug or the time limit: the stage fails, the prediction stays done
        log.exception("Recommendations failed for prediction %s", prediction_id)
        recommendation_run_finish(prediction_id=prediction_id, failed=True, message=SAMPLES_FAILURE)
        return
    recommendation_run_finish(prediction_id=prediction_id)


def recommendation_run_finish(
    *, prediction_id: int, failed: bool = False, message: str | None = None
) -> None:
    fields: dict[str, object] = {
        "status": RecommendationRun.Status.FAILED if failed else RecommendationRun.Status.DONE,
        "finished_at": timezone.now(),
    }
    if message is not None:
        fields["message"] = message[:300]
    RecommendationRun.objects.filter(
        prediction_id=prediction_id, status=RecommendationRun.Status.RUNNING
    ).update(**fields)


def recommendations_retry(*, prediction_id: int, attempt: int) -> None:
    """A throttled first attempt, tried again later (only while the prediction still has none)."""
    prediction = Prediction.objects.filter(pk=prediction_id, status=Prediction.Status.DONE).first()
    if prediction is None or prediction.recommendations.exists():
        return
    existing_message = samples_message_for(prediction=prediction)
    created = recommendations_create_for_prediction(prediction=prediction, batch=0)
    if (
        not created
        and attempt < RETRY_ATTEMPTS
        and samples_message_for(prediction=prediction).startswith("Freesound is busy")
    ):
        _schedule_retry(prediction_id, 15 * 60 * attempt, attempt=attempt + 1)
    log.info(
        "Samples retry %s for prediction %s: %s (was: %s)",
        attempt,
        prediction_id,
        len(created),
        existing_message,
    )


def preference_set(*, user: User, allow_noncommercial: bool) -> SamplePreference:
    preference, _ = SamplePreference.objects.update_or_create(
        user=user, defaults={"allow_noncommercial": allow_noncommercial}
    )
    return preference


# --- The local index ---------------------------------------------------------------------------------


@dataclass
class IndexReport:
    genres: list[str] = field(default_factory=list)
    requests: int = 0
    sounds: int = 0
    stopped: str = ""


def index_refresh(*, now: datetime | None = None, budget: FreesoundBudget | None = None) -> IndexReport:
    """Refresh the genres whose index is oldest, within this run's share of the request budget.

    Each genre costs one request per search phrase and page; a run stops before it would eat into
    FREESOUND_LIVE_RESERVE (kept for live searches) or exceed FREESOUND_INDEX_REQUESTS_PER_RUN.
    """
    now = now or timezone.now()
    budget = budget or default_budget()
    report = IndexReport()
    stale_before = now - timedelta(seconds=settings.FREESOUND_INDEX_MAX_AGE)
    due = (
        GenreSearch.objects.filter(enabled=True)
        .exclude(indexed_at__gte=stale_before)
        .order_by("indexed_at", "order")
    )
    for genre in due:
        rules = genre_rules(genre)
        cost = len(rules.queries) * settings.FREESOUND_INDEX_PAGES
        if report.requests + cost > settings.FREESOUND_INDEX_REQUESTS_PER_RUN and report.requests:
            report.stopped = "run budget spent"
            break
        if budget.remaining_today() - cost < settings.FREESOUND_LIVE_RESERVE:
            report.stopped = "daily budget reserved for live searches"
            break
        try:
            report.sounds += _index_genre(genre, rules, budget=budget, report=report)
        except FreesoundError as exc:
            report.stopped = f"{type(exc).__name__}: {exc}"
            break
        GenreSearch.objects.filter(pk=genre.pk).update(indexed_at=now)
        report.genres.append(genre.slug)
    return report


def _index_genre(
    genre: GenreSearch, rules: GenreRules, *, budget: FreesoundBudget, report: IndexReport
) -> int:
    # Non-commercial sounds are indexed too; they are offered only to users who opted in.
    licences = allowed_licences(rules, allow_noncommercial=True)
    stored = 0
    for query in rules.queries:
        for page in range(1, settings.FREESOUND_INDEX_PAGES + 1):
            result = freesound.search(
                query=query,
                filter=search_filter(rules, licences=licences),
                sort="downloads_desc",
                page=page,
                page_size=LIVE_PAGE_SIZE,
                budget=budget,
            )
            report.requests += 1
            stored += len(sound_upsert_many(results=result.results, genre=genre))
            if not result.next:
                break
    return stored


# --- More like this sample -----------------------------------------------------------------------------


@dataclass
class SimilarSounds:
    sounds: list[Sound]
    message: str = ""


SIMILAR_COUNT = 10


def sound_similar(*, sound: Sound, licences: Sequence[str], count: int = SIMILAR_COUNT) -> SimilarSounds:
    """The sound's nearest neighbours in the audio index; where the index has too few (or has not
    analysed this sound yet), widened with Freesound's own `similar_to` search (one request,
    cached like every search, and its results join the index)."""
    allowed = Sound.objects.filter(removed=False, licence__in=licences).exclude(pk=sound.pk)
    found: list[Sound] = []
    index = process_index()
    vector = index.vector(sound.freesound_id)
    if vector is not None:
        neighbours = index.search(vector, count * 3, exclude={sound.freesound_id})
        rows = allowed.in_bulk([fid for fid, _ in neighbours], field_name="freesound_id")
        found = [rows[fid] for fid, _ in neighbours if fid in rows][:count]
    if len(found) >= count:
        return SimilarSounds(found)
    try:
        page = freesound.search(
            query="",
            filter=licence_filter(licences),
            similar_to=sound.freesound_id,
            page_size=count * 2,
        )
    except FreesoundError as exc:
        log.warning("Freesound similar_to %s failed: %s (%s)", sound.freesound_id, exc, exc.detail)
        message = "" if found else "Freesound is not answering right now; try again in a few minutes."
        return SimilarSounds(found, message)
    stored = sound_upsert_many(results=page.results)
    have = {s.pk for s in found}
    found += [s for s in stored if s.pk not in have and s.pk != sound.pk and s.licence in licences]
    return SimilarSounds(found[:count], "" if found else "No similar sounds were found.")


# --- Packs ---------------------------------------------------------------------------------------------


class PackFull(Exception):
    pass


class PackNameTaken(ValueError):
    """Another of the user's packs has this name (in any case). str() is the sentence to show."""

    def __init__(self, name: str) -> None:
        super().__init__(f"You already have a pack called “{name}”; choose another name.")


def pack_name_taken(*, owner: User, name: str, exclude: Pack | None = None) -> bool:
    others = Pack.objects.filter(owner=owner, name__iexact=name.strip()[:100])
    return others.exclude(pk=exclude.pk).exists() if exclude is not None and exclude.pk else others.exists()


def pack_create(*, owner: User, name: str, notes: str = "") -> Pack:
    name = name.strip()[:100]
    if pack_name_taken(owner=owner, name=name):
        raise PackNameTaken(name)
    try:
        with transaction.atomic():
            return Pack.objects.create(owner=owner, name=name, notes=notes)
    except IntegrityError as exc:  # created by a concurrent request since the check
        raise PackNameTaken(name) from exc


def pack_update(*, pack: Pack, name: str, notes: str) -> Pack:
    name = name.strip()[:100]
    if pack_name_taken(owner=pack.owner, name=name, exclude=pack):
        raise PackNameTaken(name)
    pack.name, pack.notes = name, notes
    try:
        with transaction.atomic():
            pack.save(update_fields=["name", "notes", "updated_at"])
    except IntegrityError as exc:
        raise PackNameTaken(name) from exc
    return pack


def pack_delete(*, pack: Pack) -> None:
    for export in pack.exports.exclude(file=""):
        export.file.delete(save=False)
    pack.delete()


def pack_get_or_create_by_name(*, owner: User, name: str) -> Pack:
    """The user's pack with this name (any case), or a new one: how "save to pack" picks its pack."""
    existing = Pack.objects.filter(owner=owner, name__iexact=name.strip()).first()
    if existing is not None:
        return existing
    try:
        return pack_create(owner=owner, name=name)
    except PackNameTaken:  # a concurrent "save" created it a moment ago
        return Pack.objects.get(owner=owner, name__iexact=name.strip()[:100])


@transaction.atomic
def pack_add_sound(*, pack: Pack, sound: Sound) -> bool:
    """Add the sound; False when it was already there."""
    if pack.items.count() >= PACK_MAX_ITEMS:
        raise PackFull(f"A pack holds at most {PACK_MAX_ITEMS} sounds.")
    try:
        with transaction.atomic():
            PackItem.objects.create(pack=pack, sound=sound)
    except IntegrityError:
        return False
    Pack.objects.filter(pk=pack.pk).update(updated_at=timezone.now())
    return True


def pack_remove_sound(*, pack: Pack, sound: Sound) -> bool:
    deleted, _ = PackItem.objects.filter(pack=pack, sound=sound).delete()
    if deleted:
        Pack.objects.filter(pk=pack.pk).update(updated_at=timezone.now())
    return bool(deleted)


# --- Pack ZIPs ------------------------------------------------------------------------------------------


def pack_signature(
    pack: Pack, *, contents: str = PackExport.Contents.ORIGINALS, song: Prediction | None = None
) -> str:
    """What a ZIP holds: the pack as it is, and for conformed files the song's tempo and key now
    (a corrected tempo needs a new ZIP)."""
    ids = ",".join(str(i) for i in pack.items.order_by("id").values_list("sound__freesound_id", flat=True))
    extra = ""
    if contents != PackExport.Contents.ORIGINALS and song is not None:
        grid = song_grid(song)
        extra = f"|{contents}|{song.pk}|{grid.tempo_bpm}|{grid.key}"
    return hashlib.sha256(f"{pack.name}|{pack.notes}|{ids}{extra}".encode()).hexdigest()


def _zip_sounds(pack: Pack) -> list[ZipSound]:
    return [
        ZipSound(
            s.freesound_id,
            s.name,
            s.author,
            s.licence_url,
            s.page_url,
            s.preview_url,
            s.duration,
            s.bpm,
            s.key,
            s.tags,
        )
        for s in (item.sound for item in pack.items.select_related("sound"))
    ]


def _fetch_preview(url: str, *, sounds_by_url: dict[str, Sound]) -> bytes | None:
    """The preview, or None when Freesound no longer has the sound (404 tolerated, not fatal)."""
    try:
        return preview_fetch(url=url)
    except PreviewMissing:
        sound = sounds_by_url.get(url)
        fresh = sound_refresh(sound=sound) if sound is not None else None
        if fresh is None or fresh.preview_url == url:
            return None
        try:
            return preview_fetch(url=fresh.preview_url)
        except PreviewMissing:
            return None


def pack_zip_write(
    *,
    pack: Pack,
    target: IO[bytes],
    progress: Progress | None = None,
    contents: str = PackExport.Contents.ORIGINALS,
    song: Prediction | None = None,
) -> set[int]:
    """Write the pack's ZIP into a binary file object; returns the ids of sounds left out (gone).
    With a song, conformed WAVs are rendered (or taken from the cache) here: call it on a worker."""
    sounds_by_url = {item.sound.preview_url: item.sound for item in pack.items.select_related("sound")}
    sounds_by_id = {sound.freesound_id: sound for sound in sounds_by_url.values()}

    def fetch(url: str) -> bytes | None:
        try:
            return _fetch_preview(url, sounds_by_url=sounds_by_url)
        except FreesoundError as exc:  # could not check whether it is gone: leave it out, say so
            log.warning("Preview %s left out of pack %s: %s", url, pack.pk, exc)
            return None

    conform: Conform | None = None
    target_info: ConformTarget | None = None
    if contents != PackExport.Contents.ORIGINALS and song is not None:
        grid = song_grid(song)
        target_info = ConformTarget(song.display_title, grid.tempo_bpm, grid.key)

        def conform_one(zip_sound: ZipSound) -> ConformedFile:
            return conformed_file(sound=sounds_by_id[zip_sound.freesound_id], grid=grid)

        conform = conform_one

    return zip_write(
        target,
        pack_name=pack.name,
        notes=pack.notes,
        created=pack.created_at,
        sounds=_zip_sounds(pack),
        fetch=fetch,
        progress=progress,
        contents=contents if conform is not None else PackExport.Contents.ORIGINALS,
        conform=conform,
        conform_target=target_info,
    )


EXPORT_FAILURE = "The ZIP could not be built; try again."
EXPORT_WORKER_LOST = "The ZIP build was interrupted several times (its worker stopped); try again."
EXPORT_STALE = "The ZIP took too long to build and was stopped; try again."
EXPORT_DATABASE_UNAVAILABLE = "The database was unavailable for a moment; the ZIP will be built shortly."


class ExportRetry(Exception):
    """The build hit a transient error (the database): the task retries it later."""


def pack_export_request(
    *, pack: Pack, contents: str = PackExport.Contents.ORIGINALS, song: Prediction | None = None
) -> PackExport:
    """A ZIP for the pack as it is now (originals, or conformed to `song`, or both): a finished or
    running one if the pack has not changed, else a new job. Asking again for one that is stuck (its
    message lost, its worker dead) sends it again, or, once it has lost its worker too often, fails
    it and starts a new one."""
    if song is None:
        contents = PackExport.Contents.ORIGINALS
    signature = pack_signature(pack, contents=contents, song=song)
    current = pack.exports.filter(signature=signature).exclude(status=PackExport.Status.FAILED).first()
    if current is not None:
        if current.status == PackExport.Status.DONE:
            return current
        if current.status == PackExport.Status.PENDING and current.queued_at is None:
            pack_export_enqueue(export_id=current.pk)  # the broker was down when it was asked for
        pack_export_sweep(rows=PackExport.objects.filter(pk=current.pk))
        current.refresh_from_db()
        if current.status != PackExport.Status.FAILED:
            return current
    export = PackExport.objects.create(pack=pack, signature=signature, contents=contents, song=song)
    # A named function that never raises: on_commit(robust=True) needs a __qualname__ to log a
    # failure, and a partial has none, so a broker outage used to turn into a 500.
    export_id = export.pk
    transaction.on_commit(lambda: pack_export_enqueue(export_id=export_id))
    return export


def pack_export_enqueue(*, export_id: int) -> bool:
    """Send the build task. A broker outage leaves the export pending for the sweep (or the next
    request) to send again, so this logs and returns False instead of raising."""
    if not task_send(BUILD_PACK_ZIP_TASK, export_id, waiting=f"pack ZIP {export_id} waits for the sweep"):
        return False
    PackExport.objects.filter(pk=export_id, status=PackExport.Status.PENDING).update(queued_at=timezone.now())
    return True


def pack_export_claim(*, export_id: int, job_id: str) -> bool:
    """pending → running for this task id. The same task id may take over a running export only
    once its heartbeat stopped (its worker died): a duplicate delivery is a no-op."""
    now = timezone.now()
    claimable = Q(status=PackExport.Status.PENDING) | (
        Q(status=PackExport.Status.RUNNING, job_id=job_id) & heartbeat_stopped(now)
    )
    return bool(
        PackExport.objects.filter(claimable, pk=export_id).update(
            status=PackExport.Status.RUNNING,
            job_id=job_id,
            started_at=now,
            heartbeat_at=now,
            progress=0,
            attempts=F("attempts") + 1,
        )
    )


def _held(export_id: int, job_id: str) -> QuerySet[PackExport]:
    return PackExport.objects.filter(pk=export_id, status=PackExport.Status.RUNNING, job_id=job_id)


def pack_export_build(*, export_id: int, job_id: str = "") -> None:
    """The worker's job. Claims the row with a conditional UPDATE so a redelivered or duplicate
    message is a no-op; every later write only lands while this job still holds the row."""
    job_id = job_id or f"local-{export_id}"
    try:
        claimed = pack_export_claim(export_id=export_id, job_id=job_id)
    except DATABASE_ERRORS as exc:
        raise ExportRetry(EXPORT_DATABASE_UNAVAILABLE) from exc
    if not claimed:
        log.info("Pack ZIP %s is not claimable by job %s; nothing to do", export_id, job_id)
        return
    try:
        with heartbeat(
            lambda: _held(export_id, job_id).update(heartbeat_at=timezone.now()),
            interval=settings.PREDICTION_HEARTBEAT_INTERVAL,
        ):
            name = _build_zip(export_id, job_id)
            done = _held(export_id, job_id).update(
                status=PackExport.Status.DONE, progress=100, file=name, finished_at=timezone.now()
            )
    except (PreviewError, OSError) as exc:
        log.exception("ZIP of pack export %s failed", export_id)
        _held(export_id, job_id).update(
            status=PackExport.Status.FAILED,
            error=f"The ZIP could not be built ({exc.__class__.__name__}); try again.",
            finished_at=timezone.now(),
        )
        return
    except DATABASE_ERRORS as exc:
        raise ExportRetry(EXPORT_DATABASE_UNAVAILABLE) from exc
    if not done:
        PackExport.file.field.storage.delete(name)  # another job took the row meanwhile


def _build_zip(export_id: int, job_id: str) -> str:
    export = PackExport.objects.select_related("pack", "song").get(pk=export_id)

    def progress(done: int, total: int) -> None:
        _held(export_id, job_id).update(progress=int(done * 100 / max(total, 1)), heartbeat_at=timezone.now())

    with tempfile.TemporaryFile() as tmp:
        pack_zip_write(
            pack=export.pack, target=tmp, progress=progress, contents=export.contents, song=export.song
        )
        tmp.seek(0)
        return export.file.storage.save(
            export.file.field.generate_filename(export, f"pack-{export.pack_id}-{export_id}.zip"), File(tmp)
        )


def pack_export_fail(*, export_id: int, message: str) -> None:
    PackExport.objects.filter(pk=export_id).exclude(status=PackExport.Status.DONE).update(
        status=PackExport.Status.FAILED, error=message[:300], finished_at=timezone.now()
    )


@dataclass(frozen=True)
class ExportSweepReport:
    requeued: int
    recovered: int
    failed: int


def pack_export_sweep(
    *, rows: QuerySet[PackExport] | None = None, now: datetime | None = None
) -> ExportSweepReport:
    """Keep pack ZIPs moving, like predictions.services.prediction_sweep: running exports whose
    heartbeat stopped go back to pending (or fail after PREDICTION_MAX_ATTEMPTS), pending ones
    whose message may be lost are sent again, and ones running past every time limit fail."""
    now = now or timezone.now()
    rows = PackExport.objects.all() if rows is None else rows
    orphans = rows.filter(status=PackExport.Status.RUNNING).filter(orphaned(now))
    failed = orphans.filter(attempts__gte=settings.PREDICTION_MAX_ATTEMPTS).update(
        status=PackExport.Status.FAILED, error=EXPORT_WORKER_LOST, finished_at=now
    )
    orphan_ids = list(orphans.values_list("pk", flat=True))
    recovered = orphans.filter(pk__in=orphan_ids).update(
        status=PackExport.Status.PENDING, job_id="", heartbeat_at=None, queued_at=None, progress=0
    )
    waiting = rows.filter(status=PackExport.Status.PENDING).filter(
        Q(pk__in=orphan_ids) | _message_may_be_lost(now)
    )
    requeued = sum(pack_export_enqueue(export_id=pk) for pk in waiting.values_list("pk", flat=True))
    stale_before = now - timedelta(seconds=settings.PREDICTION_STALE_AFTER)
    failed += rows.filter(status=PackExport.Status.RUNNING, started_at__lt=stale_before).update(
        status=PackExport.Status.FAILED, error=EXPORT_STALE, finished_at=now
    )
    return ExportSweepReport(requeued=requeued, recovered=recovered, failed=failed)
