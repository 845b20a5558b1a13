"""Rendered page fragments kept per version, and pages answered 304 when unchanged.

A fragment is cached under a key made of what it shows (a version: a hash of the row's values the
template reads), so a changed row gives a new key and an old entry is never served; nothing needs
to be deleted when a row changes, and each process may keep its own copy. The cache is a small
least-recently-used store in the process's memory, not the shared cache: a hit costs no network
round trip, and a Redis outage costs nothing.

Fragments carry forms, so they hold a CSRF token, which belongs to the browser, not to the
fragment: they are rendered with CSRF_PLACEHOLDER as the token, and the placeholder is swapped for
the request's token on the way out (fill_csrf).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.safestring import SafeString, mark_safe

# Never a real token: those are 64 letters and digits.
CSRF_PLACEHOLDER = "csrf-token-placeholder"
MAX_FRAGMENTS = 500  # a result's two panels are about 40 KB, so at most about 20 MB a process


class FragmentCache:
    """A bounded, thread-safe LRU map of rendered fragments."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_render(self, key: str, render: Callable[[], str]) -> str:
        with self._lock:
            html = self._entries.get(key)
            if html is not None:
                self._entries.move_to_end(key)
                return html
        html = render()
        with self._lock:
            self._entries[key] = html
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return html

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


fragments = FragmentCache(MAX_FRAGMENTS)


def version(*parts: object) -> str:
    """A short hash of the values a fragment shows (their repr)."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest()


def cached_fragment(
    key: str, template_name: str, context: Callable[[], dict[str, Any]], *, csrf_token: object
) -> SafeString:
    """The template rendered with context() once per key, with this request's CSRF token in it."""
    html = fragments.get_or_render(
        key, lambda: render_to_string(template_name, {**context(), "csrf_token": CSRF_PLACEHOLDER})
    )
    return mark_safe(fill_csrf(html, csrf_token))  # noqa: S308  rendered by our own template


def fill_csrf(html: str, csrf_token: object) -> str:
    return html.replace(CSRF_PLACEHOLDER, str(csrf_token or ""))


def render_conditional(request: HttpRequest, template_name: str, context: dict[str, Any]) -> HttpResponse:
    """A page with an ETag of what it shows: 304 Not Modified when the browser has it already.

    The ETag hashes the page rendered with the CSRF placeholder, and the browser's CSRF secret: the
    copy a browser keeps carries a token of that secret, so it stays valid for its forms. The page
    is always rendered (it is cheap once its panels are cached); what a 304 saves is the transfer
    and the browser's work. `Cache-Control: private, no-cache` makes the browser ask every time."""
    html = render_to_string(template_name, {**context, "csrf_token": CSRF_PLACEHOLDER}, request=request)
    token = get_token(request)  # also sets the CSRF cookie when the browser has none yet
    etag = f'"{version(html, request.META.get("CSRF_COOKIE", ""))}"'
    response = get_conditional_response(request, etag=etag) or HttpResponse(fill_csrf(html, token))
    response["ETag"] = etag
    patch_cache_control(response, private=True, no_cache=True)
    return response
