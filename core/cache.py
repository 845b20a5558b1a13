"""The shared cache, read and written so that its outage costs speed, never a page.

Caches fail open: a read that cannot reach the server is a miss, a write is skipped, and both log.
Rate limits are not plain caching: they choose their own behaviour (core.ratelimit.FailMode).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache

from .ratelimit import CACHE_ERRORS

log = logging.getLogger(__name__)


def cache_get(key: str) -> Any:
    """The cached value, or None when it is missing or the cache is unreachable."""
    try:
        return cache.get(key)
    except CACHE_ERRORS as exc:
        log.warning("cache unavailable, read of %s treated as a miss: %r", key, exc)
        return None


def cache_set(key: str, value: Any, *, timeout: int) -> None:
    """Store a value; when the cache is unreachable the value is simply not kept."""
    try:
        cache.set(key, value, timeout=timeout)
    except CACHE_ERRORS as exc:
        log.warning("cache unavailable, %s not stored: %r", key, exc)
