"""Counting failed sign-ins in the cache, so password guessing is slowed down across processes."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def _keys(request: HttpRequest, username: str) -> list[str]:
    address = request.META.get("REMOTE_ADDR", "")
    hashed_user = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return [f"login-fail:user:{hashed_user}", f"login-fail:addr:{address}"]


def login_attempts_exceeded(request: HttpRequest, username: str) -> bool:
    return any((cache.get(key) or 0) >= settings.LOGIN_RATE_LIMIT for key in _keys(request, username))


def record_login_failure(request: HttpRequest, username: str) -> None:
    for key in _keys(request, username):
        # add() starts the window only on the first failure; incr() keeps its expiry.
        if not cache.add(key, 1, timeout=settings.LOGIN_RATE_WINDOW):
            try:
                cache.incr(key)
            except ValueError:  # expired between add() and incr()
                cache.set(key, 1, timeout=settings.LOGIN_RATE_WINDOW)
