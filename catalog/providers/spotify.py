"""Spotify through spotipy with client credentials: a browser for artists, albums and tracks.

Spotify returns no preview_url to new apps, so audio comes from Deezer or iTunes by ISRC or
artist + title (catalog.previews). spotipy is given plain requests sessions: its own session
retries 429s with urllib3, which sleeps for the Retry-After (hours, at worst) inside the call.
Reference: docs/api-notes.md §A.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

import requests
import spotipy
from django.conf import settings
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.oauth2 import SpotifyClientCredentials, SpotifyOauthError

from core.http import retry_after_seconds

from .._http import new_session, request_failed, timeouts
from ..budget import budget_for
from ..errors import BadCredentials, NotFound, ProviderUnavailable, RateLimited
from ..types import Album, Artist, Page, Track

log = logging.getLogger(__name__)

NAME = "spotify"
# Since February 2026: search and artist albums accept at most 10 per page (400 "Invalid limit").
MAX_SEARCH_LIMIT = 10
MAX_ALBUMS_LIMIT = 10
MAX_ALBUM_TRACKS_LIMIT = 50
_ID = re.compile(r"^[0-9A-Za-z]{1,40}$")

R = TypeVar("R")


def is_configured() -> bool:
    return bool(settings.SPOTIFY_CLIENT_ID and settings.SPOTIFY_CLIENT_SECRET)


@lru_cache(maxsize=4)
def _client(client_id: str, client_secret: str, api_url: str, token_url: str) -> spotipy.Spotify:
    """One client per configuration and process, so its token (valid an hour) is reused."""
    auth = SpotifyClientCredentials(
        client_id=client_id,
        client_secret=client_secret,
        cache_handler=MemoryCacheHandler(),
        requests_session=_token_session(),
        requests_timeout=timeouts(),
    )
    auth.OAUTH_TOKEN_URL = token_url
    client = spotipy.Spotify(
        auth_manager=auth, requests_session=new_session(), requests_timeout=timeouts(), retries=0
    )
    client.prefix = api_url if api_url.endswith("/") else api_url + "/"
    return client


def _token_session() -> requests.Session:
    session = new_session()

    # spotipy turns a failed token request into a SpotifyOauthError without the status or headers;
    # this hook raises first, so a throttled token request is reported with its Retry-After.
    def raise_on_429(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if response.status_code == 429:
            raise RateLimited(NAME, retry_after_seconds(response.headers.get("Retry-After")))
        if response.status_code >= 500:
            raise ProviderUnavailable(NAME, detail=f"token endpoint answered {response.status_code}")

    session.hooks["response"].append(raise_on_429)
    return session


class SpotifyProvider:
    name = NAME
    label = "Spotify"

    def __init__(self) -> None:
        if not is_configured():
            raise BadCredentials(NAME, detail="SPOTIFY_CLIENT_ID/SECRET are not set")
        self.client = _client(
            settings.SPOTIFY_CLIENT_ID,
            settings.SPOTIFY_CLIENT_SECRET,
            settings.SPOTIFY_API_URL,
            settings.SPOTIFY_TOKEN_URL,
        )
        self.market = settings.SPOTIFY_MARKET or None

    # --- catalog operations ----------------------------------------------------------------
    def search_artists(self, query: str, *, offset: int = 0, limit: int = MAX_SEARCH_LIMIT) -> Page[Artist]:
        limit = min(limit, MAX_SEARCH_LIMIT)
        data = self._call("artist", lambda c: c.search(query, limit=limit, offset=offset, type="artist"))
        paging = data.get("artists") or {}
        return _page(paging, offset, limit, [_artist(a) for a in paging.get("items", [])])

    def search_songs(self, query: str, *, offset: int = 0, limit: int = MAX_SEARCH_LIMIT) -> Page[Track]:
        limit = min(limit, MAX_SEARCH_LIMIT)
        data = self._call(
            "track",
            lambda c: c.search(query, limit=limit, offset=offset, type="track", market=self.market),
        )
        paging = data.get("tracks") or {}
        return _page(paging, offset, limit, [_track(t) for t in paging.get("items", [])])

    def get_artist(self, artist_id: str) -> Artist:
        _check_id(artist_id, "artist")
        return _artist(self._call("artist", lambda c: c.artist(artist_id)))

    def artist_albums(self, artist_id: str, *, offset: int = 0, limit: int = MAX_ALBUMS_LIMIT) -> Page[Album]:
        _check_id(artist_id, "artist")
        limit = min(limit, MAX_ALBUMS_LIMIT)
        data = self._call(
            "artist",
            lambda c: c.artist_albums(
                artist_id,
                include_groups="album,single,compilation",
                country=self.market,
                limit=limit,
                offset=offset,
            ),
        )
        return _page(data, offset, limit, [_album(a) for a in data.get("items", [])])

    def get_album(self, album_id: str) -> Album:
        _check_id(album_id, "album")
        return _album(self._call("album", lambda c: c.album(album_id, market=self.market)))

    def album_tracks(
        self, album_id: str, *, offset: int = 0, limit: int = MAX_ALBUM_TRACKS_LIMIT
    ) -> Page[Track]:
        _check_id(album_id, "album")
        limit = min(limit, MAX_ALBUM_TRACKS_LIMIT)
        data = self._call(
            "album", lambda c: c.album_tracks(album_id, limit=limit, offset=offset, market=self.market)
        )
        return _page(data, offset, limit, [_track(t) for t in data.get("items", [])])

    def get_track(self, track_id: str) -> Track:
        _check_id(track_id, "track")
        return _track(self._call("track", lambda c: c.track(track_id, market=self.market)))

    def preview_url(self, track_id: str) -> str:
        return self.get_track(track_id).preview_url

    # --- plumbing --------------------------------------------------------------------------
    def _call(self, what: str, call: Callable[[spotipy.Spotify], R]) -> R:
        budget = budget_for(NAME)
        if budget is not None:
            budget.acquire()
        try:
            try:
                result = call(self.client)
            except spotipy.SpotifyException as exc:
                if exc.http_status != 401:
                    raise
                # The token was revoked or expired early: forget it and ask for a new one, once.
                self.client.auth_manager.cache_handler.save_token_to_cache(None)
                result = call(self.client)
        except spotipy.SpotifyException as exc:
            raise _map_error(exc, what) from exc
        except SpotifyOauthError as exc:
            raise _map_oauth_error(exc) from exc
        except requests.RequestException as exc:
            raise request_failed(NAME, exc) from exc
        if result is None:  # spotipy returns None when the body is not JSON
            raise ProviderUnavailable(NAME, detail="malformed JSON")
        return result


def _check_id(value: str, what: str) -> None:
    if not _ID.fullmatch(value or ""):  # fullmatch: `$` would let a trailing newline through
        raise NotFound(NAME, what, detail=f"not a Spotify id: {value!r}")


def _map_error(exc: spotipy.SpotifyException, what: str) -> Exception:
    detail = f"HTTP {exc.http_status}: {exc.msg} ({exc.reason})"
    log.warning("Spotify answered %s", detail)
    if exc.http_status == 429:
        headers = exc.headers or {}
        return RateLimited(NAME, retry_after_seconds(headers.get("Retry-After")), detail=detail)
    if exc.http_status == 404 or (
        exc.http_status == 400 and "invalid" in str(exc.msg).lower() and "id" in str(exc.msg).lower()
    ):
        return NotFound(NAME, what, detail=detail)
    if exc.http_status in (401, 403):
        return BadCredentials(NAME, detail=detail)
    return ProviderUnavailable(NAME, detail=detail)


def _map_oauth_error(exc: SpotifyOauthError) -> Exception:
    detail = f"token request failed: {exc.error} {exc.error_description}"
    log.warning("Spotify %s", detail)
    if exc.error in {"invalid_client", "unauthorized_client", "invalid_grant"}:
        return BadCredentials(NAME, detail=detail)
    return ProviderUnavailable(NAME, detail=detail)


def _page(paging: dict[str, Any], offset: int, limit: int, items: list[Any]) -> Page[Any]:
    return Page(
        items=tuple(items),
        offset=offset,
        limit=limit,
        total=paging.get("total"),
        next_offset=offset + len(items) if paging.get("next") and items else None,
    )


def _image(images: list[dict[str, Any]] | None, *, near: int = 300) -> str:
    """The image closest to `near` pixels wide (Spotify lists them widest first)."""
    if not images:
        return ""
    return min(images, key=lambda i: abs((i.get("width") or near) - near)).get("url", "")


def _artist(data: dict[str, Any]) -> Artist:
    return Artist(
        provider=NAME, id=data["id"], name=data.get("name", ""), image_url=_image(data.get("images"))
    )


def _album(data: dict[str, Any]) -> Album:
    artists = data.get("artists") or []
    return Album(
        provider=NAME,
        id=data["id"],
        title=data.get("name", ""),
        artist=", ".join(a.get("name", "") for a in artists),
        image_url=_image(data.get("images")),
        release_date=data.get("release_date", "") or "",
        record_type=data.get("album_type", "") or "",
        track_count=data.get("total_tracks"),
    )


def _track(data: dict[str, Any]) -> Track:
    album = data.get("album") or {}
    duration_ms = data.get("duration_ms")
    return Track(
        provider=NAME,
        id=data["id"],
        title=data.get("name", ""),
        artist=", ".join(a.get("name", "") for a in data.get("artists") or []),
        album=album.get("name", ""),
        album_id=album.get("id", ""),
        duration_s=round(duration_ms / 1000) if isinstance(duration_ms, int) else None,
        isrc=((data.get("external_ids") or {}).get("isrc") or "").upper(),
        artwork_url=_image(album.get("images")),
        track_number=data.get("track_number"),
        preview_url=data.get("preview_url") or "",
        # Spotify withholds previews from new apps: no preview_url says nothing about Deezer's.
        has_preview=True if data.get("preview_url") else None,
    )
