"""Fetching preview MP3s for pack ZIPs, only from Freesound's preview hosts (no request forgery)."""

from __future__ import annotations

import ipaddress
import time
from urllib.parse import urlsplit

import requests
from django.conf import settings

_LOOPBACK_NAMES = {"localhost"}


class PreviewError(Exception):
    pass


class PreviewMissing(PreviewError):
    """The preview URL answered 404 (the sound was removed or its URL changed)."""


def preview_url_allowed(url: str) -> bool:
    from catalog.download import port_allowed

    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        return False
    if (
        parts.scheme == "https"
        and host in {h.lower() for h in settings.FREESOUND_PREVIEW_HOSTS}
        and port_allowed("https", port)
    ):
        return True
    # Tests serve previews from a fake on 127.0.0.1 over plain http; never allowed in production.
    return bool(settings.PREVIEW_ALLOW_LOOPBACK) and _is_loopback(host) and parts.scheme in ("http", "https")


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def preview_fetch(*, url: str) -> bytes:
    """The preview's bytes, bounded in size and time. Redirects are not followed: the CDN needs none."""
    if not preview_url_allowed(url):
        raise PreviewError(f"preview host not allowed: {url}")
    deadline = time.monotonic() + settings.PREVIEW_TOTAL_TIMEOUT
    timeout = (settings.PREVIEW_CONNECT_TIMEOUT, settings.PREVIEW_READ_TIMEOUT)
    try:
        with requests.get(url, timeout=timeout, stream=True, allow_redirects=False) as response:
            if response.status_code == 404:
                raise PreviewMissing(url)
            if response.status_code != 200:
                raise PreviewError(f"HTTP {response.status_code} for {url}")
            return _read_bounded(response, deadline)
    except requests.RequestException as exc:
        raise PreviewError(f"{url}: {exc!r}") from exc


def _read_bounded(response: requests.Response, deadline: float) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > settings.PREVIEW_MAX_BYTES:
            raise PreviewError("preview larger than PREVIEW_MAX_BYTES")
        if time.monotonic() > deadline:
            raise PreviewError("preview download took too long")
        chunks.append(chunk)
    return b"".join(chunks)
