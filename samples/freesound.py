"""Our own small client for the Freesound API v2 (https://freesound.org/docs/api/).

Token auth, explicit timeouts, no retries (a 429 comes back at once; Freesound sends no
Retry-After), every request paid for from the site-wide budget first, search responses cached
and shared across users, and JSON parsed into typed objects here, at the boundary.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import urljoin

import requests
from django.conf import settings
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.cache import cache_get, cache_set

from .budget import BudgetSpent, FreesoundBudget, ShareSpent, default_budget

log = logging.getLogger(__name__)

# Everything a card, the index and the ZIP need, so no sound ever costs a second request.
SOUND_FIELDS = "id,name,username,license,duration,tags,previews,images,url,pack,bpm,tonality"
MAX_PAGE_SIZE = 150


# --- Errors ------------------------------------------------------------------------------------


class FreesoundError(Exception):
    """Base class. `str()` is a sentence for the user; `detail` is for the log."""

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class BadCredentials(FreesoundError):
    def __init__(self, *, detail: str = "") -> None:
        super().__init__(
            "Freesound rejected the key in FREESOUND_API_KEY; check it in the .env file (or the "
            "environment of the site and the worker) and restart them (https://freesound.org/apiv2/apply).",
            detail=detail,
        )


class MissingApiKey(BadCredentials):
    def __init__(self) -> None:
        FreesoundError.__init__(
            self,
            "No FREESOUND_API_KEY is configured. Get a key at https://freesound.org/apiv2/apply, add "
            "FREESOUND_API_KEY=<key> to the .env file in the project folder (or to the environment of "
            "the site and the worker), then restart them.",
        )


class Throttled(FreesoundError):
    """Freesound answered 429, or our own budget is spent. `retry_after` is in seconds."""

    def __init__(self, retry_after: int, *, daily: bool = False, detail: str = "") -> None:
        super().__init__("Freesound is busy (rate limit reached).", detail=detail)
        self.retry_after = retry_after
        self.daily = daily


class ShareUsedUp(FreesoundError):
    """The user's daily share of live searches is spent: their samples come from the index only."""

    def __init__(self, retry_after: int, *, detail: str = "") -> None:
        super().__init__("Your live Freesound searches for today are used up.", detail=detail)
        self.retry_after = retry_after


class Unavailable(FreesoundError):
    def __init__(self, *, detail: str = "") -> None:
        super().__init__("Freesound is not answering right now.", detail=detail)


class NotFound(FreesoundError):
    def __init__(self, *, detail: str = "") -> None:
        super().__init__("This sound is no longer on Freesound.", detail=detail)


# --- Typed results ------------------------------------------------------------------------------


class FreesoundSound(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    name: str
    username: str
    license: str  # the deed URL, e.g. https://creativecommons.org/licenses/by/4.0/
    duration: float = 0.0
    tags: list[str] = Field(default_factory=list)
    previews: dict[str, str] = Field(default_factory=dict)
    images: dict[str, str] = Field(default_factory=dict)
    url: str = ""
    pack: str | None = None  # the pack's API URI; sounds of one pack share it
    bpm: int | None = None
    tonality: str | None = None

    @property
    def preview_hq_mp3(self) -> str:
        return self.previews.get("preview-hq-mp3", "")


class SearchPage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    count: int = 0
    next: str | None = None
    results: list[FreesoundSound] = Field(default_factory=list)


# --- Requests -------------------------------------------------------------------------------------


def _api_key() -> str:
    key = settings.FREESOUND_API_KEY
    if not key:
        raise MissingApiKey()
    return key


def _session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = "SevenFour/1.0 (+https://github.com/sevenfour)"
    session.headers["Accept"] = "application/json"
    return session


# When set, the monotonic time by which every Freesound request of this context must be done.
_deadline: ContextVar[float | None] = ContextVar("freesound_deadline", default=None)


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Freesound requests made inside take `seconds` altogether at most, then raise Unavailable.

    For requests a user waits for ("More like these"): a slow Freesound must not hold a web
    worker until gunicorn's timeout; the page says to try again instead."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def _timeout() -> tuple[float, float]:
    connect, read = settings.FREESOUND_CONNECT_TIMEOUT, settings.FREESOUND_READ_TIMEOUT
    deadline = _deadline.get()
    if deadline is None:
        return connect, read
    left = deadline - time.monotonic()
    if left <= 0:
        raise Unavailable(detail="out of time for Freesound in this request")
    return min(connect, left), min(read, left)


def _get_json(path: str, params: dict[str, Any], *, budget: FreesoundBudget) -> Any:
    key = _api_key()
    timeout = _timeout()  # before acquiring: a request that cannot be made spends no budget
    try:
        budget.acquire()
    except ShareSpent as spent:
        raise ShareUsedUp(spent.retry_after, detail=spent.detail) from spent
    except BudgetSpent as spent:
        raise Throttled(spent.retry_after, daily=spent.daily, detail=spent.detail) from spent
    url = urljoin(settings.FREESOUND_API_URL, path)
    try:
        response = _session().get(
            url,
            params=params,
            headers={"Authorization": f"Token {key}"},
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise Unavailable(detail=repr(exc)) from exc
    _raise_for_status(response, budget=budget)
    try:
        return response.json()
    except ValueError as exc:
        raise Unavailable(detail="malformed JSON") from exc


def _raise_for_status(response: requests.Response, *, budget: FreesoundBudget) -> None:
    status = response.status_code
    if status < 300:
        return
    detail = f"HTTP {status} from {response.url.split('?')[0]}: {response.text[:200]}"
    log.warning("Freesound answered %s", detail)
    if status == 429:
        # No Retry-After: the body names the limit that was hit ("60/minute" or "2000/day").
        daily = "day" in response.text
        raise Throttled(budget.block(daily=daily), daily=daily, detail=detail)
    if status in (401, 403):
        raise BadCredentials(detail=detail)
    if status == 404:
        raise NotFound(detail=detail)
    raise Unavailable(detail=detail)


def _parse(model: type[BaseModel], payload: Any) -> Any:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise Unavailable(detail=f"unexpected JSON: {exc}") from exc


# --- Public functions -----------------------------------------------------------------------------


def search(
    *,
    query: str,
    filter: str = "",  # noqa: A002 (Freesound's parameter name)
    sort: str = "score",
    page: int = 1,
    page_size: int = 15,
    budget: FreesoundBudget | None = None,
    similar_to: int | None = None,
) -> SearchPage:
    """One page of `/apiv2/search/`. Identical searches are answered from the shared cache.
    `similar_to` (a sound id) asks for the sounds Freesound finds closest to that one."""
    params: dict[str, Any] = {
        "query": query,
        "filter": filter,
        "sort": sort,
        "fields": SOUND_FIELDS,
        "page": page,
        "page_size": min(page_size, MAX_PAGE_SIZE),
    }
    if similar_to is not None:
        params["similar_to"] = int(similar_to)
    cache_key = "samples:search:" + hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()
    payload = cache_get(cache_key)  # a cache outage is a miss
    if payload is None:
        try:
            payload = _get_json("search/", params, budget=budget or default_budget())
        except NotFound:
            payload = {"count": 0, "next": None, "results": []}  # a page beyond the last
        found = isinstance(payload, dict) and payload.get("results")
        timeout = settings.FREESOUND_CACHE_SECONDS if found else settings.FREESOUND_EMPTY_CACHE_SECONDS
        cache_set(cache_key, payload, timeout=timeout)
    return _parse(SearchPage, payload)


def sound_get(*, sound_id: int, budget: FreesoundBudget | None = None) -> FreesoundSound:
    """One sound's fields; raises NotFound when it was removed from Freesound."""
    payload = _get_json(
        f"sounds/{int(sound_id)}/", {"fields": SOUND_FIELDS}, budget=budget or default_budget()
    )
    return _parse(FreesoundSound, payload)
