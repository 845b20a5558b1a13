"""Catalog pages change rarely: keep them in the Django cache for hours (CATALOG_CACHE_SECONDS).

Preview URLs expire within minutes, so they are blanked before anything is cached, and
`preview_url()` always asks the provider (catalog.providers.cached wraps a provider with this).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.conf import settings

from core.cache import cache_get, cache_set

from .types import Page, Track

R = TypeVar("R")


def _strip_previews(value: Any) -> Any:
    if isinstance(value, Track):
        return dataclasses.replace(value, preview_url="")
    if isinstance(value, Page):
        return dataclasses.replace(value, items=tuple(_strip_previews(i) for i in value.items))
    return value


def cached_call(key_parts: tuple[Any, ...], fetch: Callable[[], R]) -> R:
    key = "catalog:v1:" + hashlib.sha256(repr(key_parts).encode()).hexdigest()
    hit = cache_get(key)  # a cache outage is a miss: pages stay up, only slower
    if hit is not None:
        return cast(R, hit)
    value = _strip_previews(fetch())
    cache_set(key, value, timeout=settings.CATALOG_CACHE_SECONDS)
    return cast(R, value)
