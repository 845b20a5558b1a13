"""Download a preview safely with core.http's guarded download (allowed hosts, standard ports,
public addresses only, embedded IPv4 included, redirects to the same scheme, host and port only,
timeouts, a size cap), and check that the first bytes are audio. Its failures become catalog
errors a user can act on."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from core.http import BadStatus, DownloadFailed, DownloadPolicy, download_to_file
from core.http import DownloadRefused as Refused

from .errors import DownloadRefused, NoPreview, PreviewExpired, ProviderUnavailable, RateLimited
from .sniff import HEAD_BYTES, detect_audio_format


def preview_policy() -> DownloadPolicy:
    return DownloadPolicy(
        allowed_hosts=settings.PREVIEW_ALLOWED_HOSTS,
        max_bytes=settings.PREVIEW_MAX_BYTES,
        connect_timeout=settings.PREVIEW_CONNECT_TIMEOUT,
        read_timeout=settings.PREVIEW_READ_TIMEOUT,
        total_timeout=settings.PREVIEW_TOTAL_TIMEOUT,
        allow_loopback=settings.PREVIEW_ALLOW_LOOPBACK,
        label="preview",
        accept="audio/*",
        head_bytes=HEAD_BYTES,
        head_check=_is_audio,
        head_label="audio",
    )


def _is_audio(head: bytes) -> bool:
    return detect_audio_format(head) is not None


def download_preview(url: str, dest_path: Path | str) -> Path:
    """Fetch `url` into `dest_path` and return it; DownloadRefused when a safety check fails."""
    try:
        return download_to_file(url, dest_path, preview_policy())
    except Refused as exc:
        raise DownloadRefused(str(exc), detail=exc.detail) from exc
    except DownloadFailed as exc:
        raise ProviderUnavailable("preview", detail=exc.detail) from exc
    except BadStatus as exc:
        raise _status_error(exc) from exc


def _status_error(exc: BadStatus) -> Exception:
    if exc.status in (401, 403, 410):
        # Deezer's signed links answer 403 once expired: the caller resolves a fresh link.
        return PreviewExpired("preview", detail=exc.detail)
    if exc.status == 404:
        return NoPreview(provider="preview", detail=exc.detail)
    if exc.status == 429:
        return RateLimited("preview", exc.retry_after, detail=exc.detail)
    return ProviderUnavailable("preview", detail=exc.detail)
