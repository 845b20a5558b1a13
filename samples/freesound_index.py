"""The local Freesound index: each genre's searches, refreshed within the request budget so most
recommendations need no live search, and "more like this sample" (the audio index's nearest
neighbours, widened with Freesound's own `similar_to` search)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from . import freesound, library
from .budget import FreesoundBudget, default_budget
from .freesound import FreesoundError
from .indexing import process_index
from .library import LibraryQuery, Reference
from .models import GenreSearch, Sound
from .recommend import GenreRules, allowed_licences, licence_filter, search_filter
from .sounds import sound_upsert_many

log = logging.getLogger(__name__)

LIVE_PAGE_SIZE = 150  # a full page costs one request, like a small one, and fills the index

# Sent by name by the beat schedule; the task (samples/tasks.py) runs on the I/O workers.
REFRESH_INDEX_TASK = "samples.refresh_index"


def genre_rules(genre: GenreSearch) -> GenreRules:
    """The genre's search settings as rules: what the index searches for and the picks must fit."""
    return GenreRules(
        slug=genre.slug,
        queries=tuple(genre.query_list),
        licences=tuple(genre.licences or ()),
        kind=genre.kind,
        min_duration=genre.min_duration,
        max_duration=genre.max_duration,
        bpm_tolerance=genre.bpm_tolerance,
    )


# --- The local index ----------------------------------------------------------------------------------


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


# --- More like this sample ----------------------------------------------------------------------------


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


# --- The library's live top-up ------------------------------------------------------------------------


@dataclass(frozen=True)
class TopUp:
    """What asking Freesound added to a library view: how many sounds it stored, or why it could
    not be asked (the sentence the page shows: the results are then the local index's only)."""

    stored: int = 0
    failed: str = ""


def library_top_up(*, query: LibraryQuery, reference: Reference, licences: Sequence[str]) -> TopUp:
    """One search for a library view the index has too few sounds for, through the site-wide
    budget and the shared cache (an identical view within a day costs nothing); what it finds is
    stored, so it joins the index (and the audio index) for everyone."""
    try:
        with freesound.time_limit(settings.FREESOUND_WEB_TIME_LIMIT):
            page = freesound.search(
                query=" ".join(library.text_words(query.text)),
                filter=library.freesound_filter(query=query, reference=reference, licences=licences),
                sort="score" if query.text else "downloads_desc",
                page_size=LIVE_PAGE_SIZE,
            )
    except FreesoundError as exc:
        log.info("Library top-up not made: %s (%s)", exc, exc.detail)
        return TopUp(failed=str(exc))
    return TopUp(stored=len(sound_upsert_many(results=page.results)))
