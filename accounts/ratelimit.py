"""The site's one throttle policy: web pages and the API count against the same windows.

Scopes and rates are settings.RATE_LIMITS ("N/period"). A pick on the page and a POST to the API
spend the same per-user "predictions" allowance, so the web is no side door around the API's 429.

Sign-in has its own rules (docs/security.md):
- failures per (username, client address) and per client address: past the limit, that client
  waits; nobody else does, so an attacker cannot lock a user out;
- failures for a username from everywhere only add a small delay (doubling from 1 s up to
  LOGIN_USERNAME_MAX_DELAY) before the next attempt for it is checked, and a browser that signed in
  to the account before (a signed cookie) skips even that;
- the client address comes from core.clients (trusted proxy header, else REMOTE_ADDR);
- while a username is under attack (its slowdown is on), the sign-in page offers a browser that
  is not known for it an e-mailed, single-use sign-in link instead (accounts.services.login_link_*),
  so rotating addresses cannot keep the owner out of a new browser.

When the cache is down, sign-in, sign-up and password limits count in each process's memory
(FailMode.LOCAL): guessing stays throttled (per process, so a few times more loosely) and the
right password still works. Failing closed would lock every user out with Redis; failing open
would drop the guard against guessing exactly when nobody watches. Request budgets (predictions,
catalog) fail open: the job queue and the providers' own limits still bound them.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.clients import client_address
from core.ratelimit import Cooldown, FailMode, FixedWindow, SlidingWindow, Usage

PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
           "d": 86400, "day": 86400}  # fmt: skip
# Per signed-in user; the others count per client address.
PER_USER = {"predictions", "catalog", "corrections", "password_change", "renders", "exports"}
# Budgets fail open; guards against guessing and abuse count locally while the cache is down.
# Renders and exports are budgets too: their queue's few workers, and the caps on each render,
# still bound them. Corrections too: each user's Freesound share (samples.budget) still bounds
# what they cost.
FAIL_OPEN = {"predictions", "catalog", "corrections", "renders", "exports"}

DEVICE_COOKIE = "sevenfour_device"
DEVICE_SALT = "accounts.ratelimit.device"
DEVICE_MAX_AGE = 180 * 24 * 60 * 60
DEVICE_MAX_ACCOUNTS = 5


@dataclass(frozen=True)
class Rate:
    limit: int
    seconds: int


def parse_rate(text: str) -> Rate:
    """'30/hour' → Rate(30, 3600); '5/10min' is not supported (nor needed)."""
    count, _, period = text.partition("/")
    return Rate(int(count), PERIODS[period.strip().lower()])


def _bucket(seconds: int) -> int:
    """Sixty buckets a window at most, so a check reads at most 61 keys."""
    bucket = max(1, seconds // 60)
    while seconds % bucket:
        bucket -= 1
    return bucket


def _who(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"addr:{client_address(request)}"


def throttle_take(scope: str, request: HttpRequest, *, subject: str | None = None) -> Usage:
    """Count one request in `scope` if its window allows it; the returned usage says whether it did."""
    rate = parse_rate(settings.RATE_LIMITS[scope])
    if subject is None:
        subject = _who(request) if scope in PER_USER else f"addr:{client_address(request)}"
    bucket = _bucket(rate.seconds)
    window = SlidingWindow(
        f"throttle:{scope}:{subject}",
        limit=rate.limit,
        # A sliding window also counts its current bucket: this many seconds plus one bucket
        # span exactly the period, so a refused client waits at most the period.
        seconds=max(bucket, rate.seconds - bucket),
        bucket=bucket,
        on_cache_error=FailMode.OPEN if scope in FAIL_OPEN else FailMode.LOCAL,
    )
    return window.take()


def wait_phrase(seconds: int) -> str:
    """ "1 second", "40 seconds", "2 minutes": how long to wait, in words."""
    if seconds < 90:
        return _count(max(1, seconds), "second")
    return _count(math.ceil(seconds / 60), "minute")


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def throttled_message(usage: Usage) -> str:
    return f"You have done that too often. Try again in {wait_phrase(usage.retry_after)}."


def refuse(request: HttpRequest, usage: Usage) -> HttpResponse:
    """The page for a refused web request: one clear message, 429 and Retry-After."""
    return refuse_with(request, message=throttled_message(usage), retry_after=usage.retry_after)


def refuse_with(request: HttpRequest, *, message: str, retry_after: int) -> HttpResponse:
    """The same page with another message (a quota's, say)."""
    response = render(request, "throttled.html", {"message": message}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def throttle(
    scope: str, *, when: Callable[[HttpRequest], bool] | None = None
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """View decorator: count each request in `scope` (only those `when` accepts, if given), and
    answer 429 with a message past the limit."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if when is not None and not when(request):
                return view(request, *args, **kwargs)
            usage = throttle_take(scope, request)
            if not usage.allowed:
                return refuse(request, usage)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


# --- Sign-in --------------------------------------------------------------------------------------


def _hash(username: str) -> str:
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


def _login_windows(request: HttpRequest, username: str) -> tuple[FixedWindow, FixedWindow, FixedWindow]:
    """(this client on this username, this client on any username, everyone on this username)."""
    return _login_windows_for(username, address=client_address(request))


def _login_windows_for(username: str, *, address: str) -> tuple[FixedWindow, FixedWindow, FixedWindow]:
    user = _hash(username)

    def window(key: str, limit: int) -> FixedWindow:
        return FixedWindow(
            key, limit=limit, seconds=settings.LOGIN_RATE_WINDOW, on_cache_error=FailMode.LOCAL
        )

    return (
        window(f"login-fail:pair:{user}:{address}", settings.LOGIN_RATE_LIMIT),
        window(f"login-fail:addr:{address}", settings.LOGIN_ADDRESS_LIMIT),
        window(f"login-fail:user:{user}", settings.LOGIN_USERNAME_FREE),
    )


def login_under_attack(username: str) -> bool:
    """Sign-ins to this username failed LOGIN_USERNAME_FREE times or more (from anywhere) in the
    window: its slowdown is on. Says nothing about whether an account has the name."""
    _, _, user = _login_windows_for(username, address="")
    return not user.usage().allowed


def login_link_offered(request: HttpRequest, username: str) -> bool:
    """Offer an e-mailed sign-in link: the username is under attack and this browser is not one
    that signed in to it before (a known browser skips the slowdown anyway)."""
    return bool(username) and login_under_attack(username) and not device_known(request, username)


def _slowdown(username: str) -> Cooldown:
    # Open while the cache is down: the per-process windows above still hold each client back.
    return Cooldown(f"login-slow:user:{_hash(username)}", on_cache_error=FailMode.OPEN)


@dataclass(frozen=True)
class LoginRefusal:
    message: str
    retry_after: int


def login_refusal(request: HttpRequest, username: str) -> LoginRefusal | None:
    """Why this sign-in attempt is not even checked, or None when it may be."""
    pair, address, _ = _login_windows(request, username)
    for window, why in (
        (address, "Too many failed sign-ins from your network."),
        (pair, "Too many failed sign-ins for this account from your network."),
    ):
        usage = window.usage()
        if not usage.allowed:
            return LoginRefusal(
                f"{why} Try again in {wait_phrase(usage.retry_after)}, or reset your password.",
                usage.retry_after,
            )
    if not device_known(request, username) and (wait := _slowdown(username).remaining()):
        return LoginRefusal(
            f"Many sign-ins to this account failed recently, so each try waits a moment. "
            f"Try again in {wait_phrase(wait)}.",
            wait,
        )
    return None


def login_failed(request: HttpRequest, username: str) -> None:
    pair, address, user = _login_windows(request, username)
    for window in (pair, address, user):
        window.hit()
    over = user.usage().count - settings.LOGIN_USERNAME_FREE
    if over >= 0:
        _slowdown(username).start(min(2**over, settings.LOGIN_USERNAME_MAX_DELAY))


# --- Known browsers -------------------------------------------------------------------------------


def _device_accounts(request: HttpRequest) -> list[str]:
    value = (
        request.get_signed_cookie(DEVICE_COOKIE, default="", salt=DEVICE_SALT, max_age=DEVICE_MAX_AGE) or ""
    )
    return [part for part in value.split(",") if part]


def device_known(request: HttpRequest, username: str) -> bool:
    """This browser signed in to the account before (a cookie only the site can sign)."""
    return _hash(username) in _device_accounts(request)


def device_remember(request: HttpRequest, response: HttpResponse, username: str) -> None:
    accounts = [_hash(username)] + [a for a in _device_accounts(request) if a != _hash(username)]
    response.set_signed_cookie(
        DEVICE_COOKIE,
        ",".join(accounts[:DEVICE_MAX_ACCOUNTS]),
        salt=DEVICE_SALT,
        max_age=DEVICE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
