"""Writes for the samples app's recommendations: the picks for a prediction (the samples stage's
first batch and "More like these"), the stage's message, the retry of a throttled first attempt,
and the user's licence preference. Freesound problems never escape
`recommendations_create_for_prediction`.

The app's other writes: `sounds` (Freesound's sounds as rows), `freesound_index` (the local index
and similar sounds), `stage` (the samples stage's runs), `packs`, `exports` (pack ZIPs) and
`conform` (samples in the song's tempo and key)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from celery import signature as signature_of
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from predictions.models import USER_GENRE_NONE, Prediction

from . import freesound
from .budget import FreesoundBudget, user_budget
from .freesound import FreesoundError, MissingApiKey, ShareUsedUp, Throttled
from .freesound_index import LIVE_PAGE_SIZE, genre_rules
from .indexing import sound_vectors
from .models import GenreSearch, Recommendation, RecommendationRun, SamplePreference, Sound
from .recommend import (
    SLOTS,
    Candidate,
    GenreRules,
    Pick,
    allowed_licences,
    eligible,
    fits_tempo,
    genre_slots,
    pick_varied,
    query_for,
    rank,
    search_filter,
    tempo_windows,
)
from .similarity import rank_by_sound, song_vectors
from .sounds import sound_upsert_many

log = logging.getLogger(__name__)

MATERIAL_PER_SLOT = 3  # candidates wanted per slot, so the picks can vary by pack and author

# Sent by name (samples/tasks.py imports the modules that send its tasks); it runs on the I/O workers.
RETRY_RECOMMENDATIONS_TASK = "samples.retry_recommendations"


@dataclass
class _Outcome:
    picks: list[Pick] = field(default_factory=list)
    error: FreesoundError | None = None
    why: dict[int, str] = field(default_factory=dict)  # freesound id -> "sounds close: …"


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
    budget: FreesoundBudget,
    page: int = 1,
) -> None:
    result = freesound.search(
        query=query_for(rules, turn=turn),
        filter=search_filter(rules, licences=licences, windows=windows),
        sort="downloads_desc",
        page=page,
        page_size=LIVE_PAGE_SIZE,
        budget=budget,
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
    budget: FreesoundBudget,
) -> _Outcome:
    """The index first; live searches only when it has too few (tempo-matched first, then genre-only),
    and only within the owner's daily share (`budget`): past it, the index alone."""
    rules = genre_rules(genre)
    windows = tempo_windows(prediction.song_tempo_bpm, rules.bpm_tolerance)
    turn = prediction.pk + batch
    outcome = _Outcome()
    candidates = _candidates(genre, rules, licences, exclude)
    try:
        if windows and sum(fits_tempo(c.bpm, windows) for c in candidates) < count:
            _live_search(genre, rules, licences=licences, windows=windows, turn=turn, budget=budget)
            candidates = _candidates(genre, rules, licences, exclude)
        if len(candidates) < count * MATERIAL_PER_SLOT:
            _live_search(
                genre,
                rules,
                licences=licences,
                windows=(),
                turn=turn,
                budget=budget,
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
    budget = user_budget(user_id=prediction.owner_id)
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
            budget=budget,
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
    reason, message = _message(outcome, shown=len(created))
    samples_message_set(prediction=prediction, message=message, reason=reason)
    if (
        outcome.error is not None
        and isinstance(outcome.error, Throttled)
        and not existing.exists()
        and not created
    ):
        recommendations_retry_schedule(prediction.pk, outcome.error.retry_after, attempt=1)
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


def _message(outcome: _Outcome, *, shown: int) -> tuple[str, str]:
    """Why there are fewer than five samples: the reason's code and the sentence for the user."""
    Reason = RecommendationRun.Reason
    error = outcome.error
    if isinstance(error, ShareUsedUp):
        return (Reason.NONE if shown >= SLOTS else Reason.FEW if shown else Reason.NONE_FIT), _local_only(
            error, shown=shown
        )
    if shown >= SLOTS:
        return Reason.NONE, ""
    if error is None and shown:
        return Reason.FEW, (
            f"Only {shown} of {SLOTS} samples: Freesound has no more sounds for this genre's search "
            "with an allowed licence and length that are not shown already. “More like these” looks "
            "again later (new sounds are uploaded every day); an admin can widen the search in the admin."
        )
    if isinstance(error, Throttled):
        when = timezone.now() + timedelta(seconds=error.retry_after)
        limit = "daily" if error.daily else "per-minute"
        return Reason.THROTTLED, (
            f"Freesound is busy (its {limit} rate limit is reached); samples will be retried automatically, "
            f"or use “More like these” after {when:%H:%M} UTC."
        )
    if isinstance(error, MissingApiKey):
        return Reason.MISSING_KEY, str(error)
    if isinstance(error, freesound.BadCredentials):
        return Reason.BAD_KEY, str(error)
    if error is not None:
        return (
            Reason.UNAVAILABLE,
            "Freesound is not answering right now; use “More like these” in a few minutes to try again.",
        )
    return Reason.NONE_FIT, (
        "No Freesound samples fit this genre's search settings; use “More like these” to look further, "
        "or an admin can widen them (licences, duration) in the admin."
    )


def _local_only(error: ShareUsedUp, *, shown: int) -> str:
    when = timezone.now() + timedelta(seconds=error.retry_after)
    found = (
        "These samples come from the local index only" if shown else "The local index has no fitting samples"
    )
    return (
        f"{found}: your {settings.FREESOUND_USER_DAILY_SHARE} live "
        f"Freesound searches for today are used up. “More like these” searches Freesound again after "
        f"{when:%H:%M} UTC."
    )


def samples_message_set(*, prediction: Prediction, message: str, reason: str = "") -> None:
    """Say on the prediction's samples stage why there are no (or few) samples; "" clears it.
    `reason` (a RecommendationRun.Reason) is the same for the code to read."""
    fields = {"message": message[:300], "reason": reason}
    RecommendationRun.objects.update_or_create(
        prediction=prediction,
        defaults=fields,
        # "More like these" on a prediction from before samples were a stage of their own.
        create_defaults={**fields, "status": RecommendationRun.Status.DONE},
    )


def recommendations_retry_schedule(prediction_id: int, countdown: int, *, attempt: int) -> None:
    """Try the first batch again in `countdown` seconds (samples.stage.recommendations_retry)."""
    task = signature_of(RETRY_RECOMMENDATIONS_TASK, args=[prediction_id, attempt], countdown=countdown)
    # robust: a broker outage must not undo the prediction's result; the page still says to retry.
    transaction.on_commit(task.apply_async, robust=True)


# --- Preferences --------------------------------------------------------------------------------------


def preference_set(*, user: User, allow_noncommercial: bool) -> SamplePreference:
    preference, _ = SamplePreference.objects.update_or_create(
        user=user, defaults={"allow_noncommercial": allow_noncommercial}
    )
    return preference
