"""Fetching preview MP3s for pack ZIPs, only from Freesound's preview hosts on the standard port
(no request forgery), with core.http's guarded download."""

from __future__ import annotations

from dataclasses import replace

from django.conf import settings

from core.http import BadStatus, DownloadError, DownloadPolicy, download_bytes, url_allowed

# Tests serve previews from a fake on the loopback address; never allowed in production.
_LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


class PreviewError(Exception):
    pass


class PreviewMissing(PreviewError):
    """The preview URL answered 404 (the sound was removed or its URL changed)."""


def _policy() -> DownloadPolicy:
    loopback = bool(settings.PREVIEW_ALLOW_LOOPBACK)
    return DownloadPolicy(
        allowed_hosts=[*settings.FREESOUND_PREVIEW_HOSTS, *(_LOOPBACK_HOSTS if loopback else ())],
        max_bytes=settings.PREVIEW_MAX_BYTES,
        connect_timeout=settings.PREVIEW_CONNECT_TIMEOUT,
        read_timeout=settings.PREVIEW_READ_TIMEOUT,
        total_timeout=settings.PREVIEW_TOTAL_TIMEOUT,
        allow_loopback=loopback,
        max_redirects=0,  # the CDN needs none
        label="preview",
    )


def preview_url_allowed(url: str) -> bool:
    return url_allowed(url, _policy())


def preview_fetch(*, url: str, total_timeout: float | None = None) -> bytes:
    """The preview's bytes, bounded in size and time (`total_timeout`, when given, may only shorten
    the usual time: a caller with a deadline of its own)."""
    policy = _policy()
    if total_timeout is not None:
        policy = replace(policy, total_timeout=max(min(total_timeout, policy.total_timeout), 0.1))
    try:
        return download_bytes(url, policy)
    except BadStatus as exc:
        if exc.status == 404:
            raise PreviewMissing(url) from exc
        raise PreviewError(f"HTTP {exc.status} for {url}") from exc
    except DownloadError as exc:
        raise PreviewError(f"{url}: {exc} ({exc.detail})") from exc
