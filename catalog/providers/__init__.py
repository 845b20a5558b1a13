"""Catalog providers. `get_provider()` picks Spotify when its keys are set, else Deezer, and wraps
the provider so catalog pages come from the cache (catalog.cache)."""

from __future__ import annotations

from ..errors import NotFound
from .base import CatalogProvider
from .cached import CachedProvider
from .deezer import DeezerProvider
from .spotify import SpotifyProvider, is_configured

__all__ = ["CatalogProvider", "available_providers", "default_provider_name", "get_provider"]


def available_providers() -> list[str]:
    """Names of the providers this site can browse, the default first."""
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
    provider: CatalogProvider = SpotifyProvider() if name == "spotify" else DeezerProvider()
    return CachedProvider(provider) if cached else provider
