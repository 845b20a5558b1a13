"""The "demo mode" banner's context: present only when settings.DEMO_MODE is on."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from .config import ACCOUNTS, ARTIST_NAMES, Account


def demo_mode(request: HttpRequest) -> dict[str, bool | tuple[Account, ...] | tuple[str, ...]]:
    if not getattr(settings, "DEMO_MODE", False):
        return {}
    return {"demo_mode": True, "demo_accounts": ACCOUNTS, "demo_artists": ARTIST_NAMES}
