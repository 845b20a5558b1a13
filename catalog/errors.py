"""Typed catalog errors. `str(error)` is a sentence a user can act on; details go to the log.

The worker treats RateLimited and ProviderUnavailable as transient (it retries the job later);
everything else fails the job with this message.
"""

from __future__ import annotations

PROVIDER_LABELS = {
    "deezer": "Deezer",
    "spotify": "Spotify",
    "itunes": "iTunes",
    "freesound": "Freesound",
    "preview": "The preview server",
}


def provider_label(provider: str) -> str:
    return PROVIDER_LABELS.get(provider, provider.capitalize() or "The music service")


class CatalogError(Exception):
    """Base class. `detail` is for logs only; the user sees `str()`."""

    def __init__(self, message: str, *, provider: str = "", detail: str = "") -> None:
        super().__init__(message)
        self.provider = provider
        self.detail = detail


class NotFound(CatalogError):
    def __init__(self, provider: str, what: str = "item", *, detail: str = "") -> None:
        super().__init__(
            f"{provider_label(provider)} could not find this {what}. It may have been removed; "
            "pick another one or upload the audio.",
            provider=provider,
            detail=detail,
        )


class RateLimited(CatalogError):
    def __init__(self, provider: str, retry_after: int | None = None, *, detail: str = "") -> None:
        if retry_after is not None:
            when = f"rate limited, retry after {retry_after} s"
        else:
            when = "rate limited, retry in a minute"
        super().__init__(
            f"{provider_label(provider)} is busy ({when}). Try again then.",
            provider=provider,
            detail=detail,
        )
        self.retry_after = retry_after


class ProviderUnavailable(CatalogError):
    def __init__(self, provider: str, *, detail: str = "") -> None:
        super().__init__(
            f"{provider_label(provider)} is not answering properly right now. "
            "Try again in a few minutes, or upload the audio instead.",
            provider=provider,
            detail=detail,
        )


class ProviderUnreachable(ProviderUnavailable):
    """No connection to the provider at all (refused, no route, no DNS, connect timeout): this
    server is offline, or the provider is blocked from it. Waiting a few minutes will not help."""

    def __init__(self, provider: str, *, detail: str = "") -> None:
        CatalogError.__init__(
            self,
            f"{provider_label(provider)} cannot be reached from this server at all, so its catalog "
            "cannot be searched here. Upload the audio instead: it works without any catalog.",
            provider=provider,
            detail=detail,
        )


class PreviewExpired(ProviderUnavailable):
    """A signed preview link expired (Deezer's live ~15 minutes): resolve a fresh one."""


class BadCredentials(CatalogError):
    def __init__(self, provider: str, *, detail: str = "") -> None:
        super().__init__(
            f"{provider_label(provider)} refused this site's credentials. An administrator has to check the "
            f"{provider.upper()} keys; meanwhile, upload the audio instead.",
            provider=provider,
            detail=detail,
        )


class NoPreview(CatalogError):
    def __init__(self, *, provider: str = "", detail: str = "") -> None:
        super().__init__(
            "This track has no preview; upload the audio instead.", provider=provider, detail=detail
        )


class DownloadRefused(CatalogError):
    """The preview link or its content failed a safety check (host, address, size, type)."""

    def __init__(self, reason: str, *, detail: str = "") -> None:
        super().__init__(f"The preview could not be used: {reason} Upload the audio instead.", detail=detail)
        self.reason = reason
