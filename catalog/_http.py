"""One JSON GET for the providers we call with plain requests (Deezer, iTunes): budget, timeouts,
no retries, and every failure mapped to a typed catalog error."""

from __future__ import annotations

import logging
from typing import Any

import requests
from django.conf import settings
from urllib3.exceptions import NewConnectionError

from core.http import retry_after_seconds

from .budget import RequestBudget
from .errors import BadCredentials, NotFound, ProviderUnavailable, ProviderUnreachable, RateLimited

log = logging.getLogger(__name__)


def new_session() -> requests.Session:
    # A plain session: requests does not retry or sleep by itself, so a 429 comes back at once.
    session = requests.Session()
    session.headers["User-Agent"] = "SevenFour/1.0 (+https://github.com/sevenfour)"
    session.headers["Accept"] = "application/json"
    return session


def timeouts() -> tuple[float, float]:
    return (settings.CATALOG_CONNECT_TIMEOUT, settings.CATALOG_READ_TIMEOUT)


def get_json(
    session: requests.Session,
    url: str,
    *,
    provider: str,
    params: dict[str, Any] | None = None,
    budget: RequestBudget | None = None,
    what: str = "item",
) -> Any:
    if budget is not None:
        budget.acquire()
    try:
        response = session.get(url, params=params, timeout=timeouts(), allow_redirects=False)
    except requests.RequestException as exc:
        log.warning("%s request failed: %s %s", provider, url, exc)
        raise request_failed(provider, exc) from exc
    raise_for_status(response, provider=provider, what=what)
    try:
        return response.json()
    except ValueError as exc:
        log.warning("%s sent malformed JSON for %s", provider, url)
        raise ProviderUnavailable(provider, detail="malformed JSON") from exc


def request_failed(provider: str, exc: requests.RequestException) -> ProviderUnavailable:
    """ProviderUnreachable when no connection could be made at all (refused, no route, no DNS,
    connect timeout); ProviderUnavailable when the provider was reached but failed (a connection
    reset mid-answer, a read timeout)."""
    if no_connection(exc):
        return ProviderUnreachable(provider, detail=repr(exc))
    return ProviderUnavailable(provider, detail=repr(exc))


def no_connection(exc: requests.RequestException) -> bool:
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError) or not exc.args:
        return False
    # requests wraps urllib3's MaxRetryError, whose reason says why; NameResolutionError is one.
    return isinstance(getattr(exc.args[0], "reason", None), NewConnectionError)


def raise_for_status(response: requests.Response, *, provider: str, what: str = "item") -> None:
    status = response.status_code
    if status < 300:
        return
    detail = f"HTTP {status} from {response.url}: {response.text[:200]}"
    log.warning("%s answered %s", provider, detail)
    if status == 429:
        raise RateLimited(provider, retry_after_seconds(response.headers.get("Retry-After")), detail=detail)
    if status == 404:
        raise NotFound(provider, what, detail=detail)
    if status in (401, 403) and provider != "itunes":
        raise BadCredentials(provider, detail=detail)
    if status == 403:  # iTunes throttles with a bare 403
        raise RateLimited(provider, None, detail=detail)
    raise ProviderUnavailable(provider, detail=detail)
