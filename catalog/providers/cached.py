"""A provider whose catalog pages come from the Django cache when they can (catalog.cache).

Preview URLs expire within minutes, so `preview_url()` always asks the provider."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ..cache import cached_call
from ..types import Album, Artist, Page, Track
from .base import CatalogProvider

R = TypeVar("R")


class CachedProvider:
    """Wraps a provider; same operations, answers from the cache when it can."""

    def __init__(self, inner: CatalogProvider) -> None:
        self.inner = inner
        self.name = inner.name
        self.label = inner.label

    def _cached(self, op: str, fetch: Callable[[], R], *args: str, **kwargs: int) -> R:
        # The key holds only the arguments given, so a call with defaults and one without share it.
        parts = (self.name, op, args, tuple(sorted(kwargs.items())))
        return cached_call(parts, fetch)

    def search_artists(self, query: str, **kwargs: int) -> Page[Artist]:
        query = " ".join(query.lower().split())
        return self._cached(
            "search_artists", lambda: self.inner.search_artists(query, **kwargs), query, **kwargs
        )

    def search_songs(self, query: str, **kwargs: int) -> Page[Track]:
        query = " ".join(query.lower().split())
        return self._cached("search_songs", lambda: self.inner.search_songs(query, **kwargs), query, **kwargs)

    def get_artist(self, artist_id: str) -> Artist:
        return self._cached("get_artist", lambda: self.inner.get_artist(artist_id), artist_id)

    def artist_albums(self, artist_id: str, **kwargs: int) -> Page[Album]:
        return self._cached(
            "artist_albums", lambda: self.inner.artist_albums(artist_id, **kwargs), artist_id, **kwargs
        )

    def get_album(self, album_id: str) -> Album:
        return self._cached("get_album", lambda: self.inner.get_album(album_id), album_id)

    def album_tracks(self, album_id: str, **kwargs: int) -> Page[Track]:
        return self._cached(
            "album_tracks", lambda: self.inner.album_tracks(album_id, **kwargs), album_id, **kwargs
        )

    def get_track(self, track_id: str) -> Track:
        return self._cached("get_track", lambda: self.inner.get_track(track_id), track_id)

    def preview_url(self, track_id: str) -> str:
        return self.inner.preview_url(track_id)
