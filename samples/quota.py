"""Each user's allowance of renders and pack ZIPs: a throttle on asking (the "renders" and "exports"
scopes of accounts.ratelimit, shared by the pages and the API), and a quota of bytes written for
the user in a rolling 24 hours (settings.RENDER_QUOTA_BYTES).

The quota counts bytes written on the user's behalf, in the shared counter (core.ratelimit), not
bytes the user holds: a ConformedRender is shared by everyone who asks for the same sound, tempo
and key, so "whose" a render is has no good answer, while who made it be written has one: the user
whose request rendered it. What costs the site is that writing (Rubber Band's time is in
proportion to the output, and disk fills with it); a render served from the cache costs nothing and
is free. The stock on disk is bounded separately, by the expiry (samples.expiry). A counter needs
no table and no write per request; when the cache is down it fails open, like the other request
budgets, and the throttle, the caps on each render and the render workers still bound the work.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from accounts.ratelimit import throttle_take, throttled_message, wait_phrase
from core.ratelimit import FailMode, SlidingWindow, Usage

QUOTA_SECONDS = 24 * 60 * 60
_BUCKET = QUOTA_SECONDS // 60


@dataclass(frozen=True)
class Refusal:
    """Why a request for a render or a ZIP is refused, and how long to wait (Retry-After)."""

    message: str
    retry_after: int


def _window(user_id: int) -> SlidingWindow:
    # As in accounts.ratelimit.throttle_take: the window plus its current bucket span 24 hours.
    return SlidingWindow(
        f"quota:render-bytes:user:{user_id}",
        limit=settings.RENDER_QUOTA_BYTES,
        seconds=QUOTA_SECONDS - _BUCKET,
        bucket=_BUCKET,
        on_cache_error=FailMode.OPEN,
    )


def quota_usage(*, user_id: int) -> Usage:
    """The bytes written for the user in the last 24 hours, against the quota."""
    return _window(user_id).usage()


def quota_charge(*, user_id: int | None, size: int) -> None:
    """Count `size` bytes written for the user (nothing when no user asked, e.g. a bench run)."""
    if user_id is not None and size > 0:
        _window(user_id).hit(size)


def quota_left(*, user_id: int | None) -> bool:
    return user_id is None or quota_usage(user_id=user_id).allowed


def _megabytes(size: int) -> str:
    megabytes = size / 1_000_000
    return f"{megabytes:.1f} MB" if megabytes < 10 else f"{megabytes:.0f} MB"


def quota_message(usage: Usage) -> str:
    return (
        f"You have had {_megabytes(usage.count)} of renders and ZIPs made in the last 24 hours, "
        f"past your allowance of {_megabytes(usage.limit)}. Renders and ZIPs already made can still "
        f"be played and downloaded; new ones can be asked for again in {wait_phrase(usage.retry_after)}."
    )


QUOTA_USED_UP = "not rendered: your allowance of renders for the last 24 hours is used up"


def request_refusal(request: HttpRequest, *, scope: str) -> Refusal | None:
    """Why this request for new work (a render or a ZIP, `scope` "renders" or "exports") is refused,
    or None when it may go on (then it has been counted against the throttle)."""
    user_id = request.user.pk
    if user_id is not None and not (usage := quota_usage(user_id=user_id)).allowed:
        return Refusal(quota_message(usage), usage.retry_after)
    usage = throttle_take(scope, request)
    if not usage.allowed:
        return Refusal(throttled_message(usage), usage.retry_after)
    return None
