"""The library's facet counts (samples.library): how many of a view's sounds carry each instrument
tag and how many are loops, in one aggregate query, cached per view and index version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import (
    Count,
    Max,
    QuerySet,
)

from core.cache import cache_get, cache_set
from core.fragments import version

from .library import FACETS_CACHE_SECONDS, INSTRUMENTS, LOOP_TAG, has_tag
from .models import Sound

# --- Facets -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Facet:
    tag: str
    count: int
    selected: bool


@dataclass(frozen=True)
class Facets:
    total: int
    loops: int
    tags: list[Facet] = field(default_factory=list)

    @property
    def one_shots(self) -> int:
        return self.total - self.loops


def facet_counts(sounds: QuerySet[Sound], *, selected: Sequence[str] = ()) -> Facets:
    """How many of `sounds` carry each instrument tag, and how many are loops: one aggregate query
    (a COUNT with a FILTER per tag). A tag no sound carries is left out unless it is selected."""
    counts = sounds.aggregate(
        total=Count("pk"),
        loops=Count("pk", filter=has_tag(LOOP_TAG)),
        **{f"tag_{i}": Count("pk", filter=has_tag(tag)) for i, tag in enumerate(INSTRUMENTS)},
    )
    tags = [
        Facet(tag, counts[f"tag_{i}"], tag in selected)
        for i, tag in enumerate(INSTRUMENTS)
        if counts[f"tag_{i}"] or tag in selected
    ]
    return Facets(total=counts["total"], loops=counts["loops"], tags=tags)


def index_version() -> tuple[str, int]:
    """What changes whenever any sound's facets can: the latest `seen_at` (every upsert saves it,
    and a removal sets it) and the highest id. Two index lookups (the `sound_seen` index, the
    primary key)."""
    latest = Sound.objects.aggregate(seen=Max("seen_at"), pk=Max("pk"))
    return (latest["seen"].isoformat() if latest["seen"] else "", latest["pk"] or 0)


def cached_facet_counts(sounds: QuerySet[Sound], *, selected: Sequence[str] = ()) -> Facets:
    """facet_counts, kept in the shared cache under the view's SQL and the index version, so a
    view asked again before the index changes costs two index lookups, not a count of its sounds."""
    sql, params = sounds.query.sql_with_params()
    key = f"library:facets:{version(sql, params, tuple(selected), index_version())}"
    facets = cache_get(key)
    if isinstance(facets, Facets):
        return facets
    facets = facet_counts(sounds, selected=selected)
    cache_set(key, facets, timeout=FACETS_CACHE_SECONDS)
    return facets
