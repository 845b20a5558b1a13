"""A provider whose catalog pages come from the Django cache when they can (catalog.cache).

Preview URLs expire within minutes, so `preview_url()` always asks the provider."""

from __future__ import annotations

from typing import Any

from ..cache import cached_call
from ..types import Page, Track
from .base import CatalogProvider


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
