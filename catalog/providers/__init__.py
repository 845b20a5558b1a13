"""Catalog providers. `get_provider()` picks Spotify when its keys are set, else Deezer, and wraps
the provider so catalog pages come from the cache (catalog.cache)."""

from __future__ import annotations

from typing import Protocol

from ..errors import NotFound
from ..types import Album, Artist, Page, Track


class CatalogProvider(Protocol):
    name: str
    label: str

    def search_artists(self, query: str, *, offset: int = 0, limit: int = ...) -> Page[Artist]: ...
    def search_songs(self, query: str, *, offset: int = 0, limit: int = ...) -> Page[Track]: ...
    def get_artist(self, artist_id: str) -> Artist: ...
    def artist_albums(self, artist_id: str, *, offset: int = 0, limit: int = ...) -> Page[Album]: ...
    def get_album(self, album_id: str) -> Album: ...
    def album_tracks(self, album_id: str, *, offset: int = 0, limit: int = ...) -> Page[Track]: ...
    def get_track(self, track_id: str) -> Track: ...
    def preview_url(self, track_id: str) -> str: ...


def available_providers() -> list[str]:
    """Names of the providers this site can browse, the default first."""
    from .spotify import is_configured

    return ["spotify", "deezer"] if is_configured() else ["deezer"]


def default_provider_name() -> str:
    return available_providers()[0]


def get_provider(name: str | None = None, *, cached: bool = True) -> CatalogProvider:
    """The named provider (default: Spotify when configured, else Deezer).

    Raises NotFound for a provider that does not exist or is not configured here.
    """
    name = name or default_provider_name()
    if name not in available_providers():
        raise NotFound(name or "catalog", "music service", detail=f"provider {name!r} not available")
    provider: CatalogProvider
    if name == "spotify":
        from .spotify import SpotifyProvider

        provider = SpotifyProvider()
    else:
        from .deezer import DeezerProvider

        provider = DeezerProvider()
    if not cached:
        return provider
    from ..cache import CachedProvider

    return CachedProvider(provider)
