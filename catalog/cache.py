"""Catalog pages change rarely: keep them in the Django cache for hours (CATALOG_CACHE_SECONDS).

Preview URLs expire within minutes, so they are blanked before anything is cached, and
`preview_url()` always asks the provider.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.core.cache import cache

from .types import Page, Track

if TYPE_CHECKING:
    from .providers import CatalogProvider

R = TypeVar("R")


def _strip_previews(value: Any) -> Any:
    if isinstance(value, Track):
        return dataclasses.replace(value, preview_url="")
    if isinstance(value, Page):
        return dataclasses.replace(value, items=tuple(_strip_previews(i) for i in value.items))
    return value


def cached_call(key_parts: tuple[Any, ...], fetch: Callable[[], R]) -> R:
    key = "catalog:v1:" + hashlib.sha256(repr(key_parts).encode()).hexdigest()
    hit = cache.get(key)
    if hit is not None:
        return hit
    value = _strip_previews(fetch())
    cache.set(key, value, timeout=settings.CATALOG_CACHE_SECONDS)
    return value


class CachedProvider:
    """Wraps a provider; same operations, answers from the cache when it can."""

    def __init__(self, inner: CatalogProvider) -> None:
        self.inner = inner
        self.name = inner.name
        self.label = inner.label

    def _cached(self, op: str, *args: Any, **kwargs: Any) -> Any:
        parts = (self.name, op, args, tuple(sorted(kwargs.items())))
        return cached_call(parts, lambda: getattr(self.inner, op)(*args, **kwargs))

    def search_artists(self, query: str, **kwargs: Any) -> Page:
        return self._cached("search_artists", " ".join(query.lower().split()), **kwargs)

    def search_songs(self, query: str, **kwargs: Any) -> Page:
        return self._cached("search_songs", " ".join(query.lower().split()), **kwargs)

    def get_artist(self, artist_id: str) -> Any:
        return self._cached("get_artist", artist_id)

    def artist_albums(self, artist_id: str, **kwargs: Any) -> Page:
        return self._cached("artist_albums", artist_id, **kwargs)

    def get_album(self, album_id: str) -> Any:
        return self._cached("get_album", album_id)

    def album_tracks(self, album_id: str, **kwargs: Any) -> Page:
        return self._cached("album_tracks", album_id, **kwargs)

    def get_track(self, track_id: str) -> Track:
        return self._cached("get_track", track_id)

    def preview_url(self, track_id: str) -> str:
        return self.inner.preview_url(track_id)
