"""Counting failed sign-ins in the cache, so password guessing is slowed down across processes.

Each username and each client address gets a fixed window (core.ratelimit) that starts with its
first failure. When the cache is down it fails closed: sign-in waits rather than letting
guesses through unthrottled.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.http import HttpRequest

from core.ratelimit import FailMode, FixedWindow


def _windows(request: HttpRequest, username: str) -> list[FixedWindow]:
    address = request.META.get("REMOTE_ADDR", "")
    hashed_user = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return [
        FixedWindow(
            key,
            limit=settings.LOGIN_RATE_LIMIT,
            seconds=settings.LOGIN_RATE_WINDOW,
            on_cache_error=FailMode.CLOSED,
        )
        for key in (f"login-fail:user:{hashed_user}", f"login-fail:addr:{address}")
    ]


def login_attempts_exceeded(request: HttpRequest, username: str) -> bool:
    return any(not window.usage().allowed for window in _windows(request, username))


def record_login_failure(request: HttpRequest, username: str) -> None:
    for window in _windows(request, username):
        window.hit()
