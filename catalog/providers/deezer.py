"""Deezer's public API (no key): the default catalog and the main source of preview audio.

Reference: https://developers.deezer.com/api ; notes in docs/api-notes.md §B. Deezer reports most
errors with HTTP 200 and an `{"error": {...}}` body; `_check` turns those into typed errors.
"""

from __future__ import annotations

import re
from typing import Any

import requests
from django.conf import settings

from .._http import get_json, new_session
from ..budget import budget_for
from ..errors import BadCredentials, NotFound, ProviderUnavailable, RateLimited
from ..types import Album, Artist, Page, Track

NAME = "deezer"
PAGE_SIZE = 25

# Deezer error codes (HTTP 200 bodies): 4 quota, 700 service busy, 800 no data, 200/300 auth.
_QUOTA, _BUSY, _NO_DATA = 4, 700, 800


class DeezerProvider:
    name = NAME
    label = "Deezer"

    def __init__(self, *, base_url: str | None = None, session: requests.Session | None = None) -> None:
        self.base_url = (base_url or settings.DEEZER_API_URL).rstrip("/")
        self.session = session or new_session()

    # --- catalog operations ----------------------------------------------------------------
    def search_artists(self, query: str, *, offset: int = 0, limit: int = PAGE_SIZE) -> Page[Artist]:
        data = self._get("/search/artist", {"q": query, "index": offset, "limit": limit}, what="artist")
        return _page(data, offset, limit, [_artist(a) for a in data.get("data", [])])

    def search_songs(self, query: str, *, offset: int = 0, limit: int = PAGE_SIZE) -> Page[Track]:
        """Tracks by title (or artist: Deezer's free-text search looks at both)."""
        data = self._get("/search", {"q": query, "index": offset, "limit": limit}, what="track")
        return _page(data, offset, limit, [_track(t) for t in data.get("data", [])])

    def get_artist(self, artist_id: str) -> Artist:
        return _artist(self._get(f"/artist/{_id(artist_id, 'artist')}", what="artist"))

    def artist_albums(self, artist_id: str, *, offset: int = 0, limit: int = PAGE_SIZE) -> Page[Album]:
        data = self._get(
            f"/artist/{_id(artist_id, 'artist')}/albums", {"index": offset, "limit": limit}, what="artist"
        )
        return _page(data, offset, limit, [_album(a) for a in data.get("data", [])])

    def get_album(self, album_id: str) -> Album:
        return _album(self._get(f"/album/{_id(album_id, 'album')}", what="album"))

    def album_tracks(self, album_id: str, *, offset: int = 0, limit: int = 50) -> Page[Track]:
        data = self._get(
            f"/album/{_id(album_id, 'album')}/tracks", {"index": offset, "limit": limit}, what="album"
        )
        return _page(data, offset, limit, [_track(t) for t in data.get("data", [])])

    def get_track(self, track_id: str) -> Track:
        return _track(self._get(f"/track/{_id(track_id, 'track')}", what="track"))

    # --- preview lookups (never cached: the links expire) ----------------------------------
    def track_by_isrc(self, isrc: str) -> Track:
        return _track(self._get(f"/track/isrc:{isrc.strip().upper()}", what="track"))

    def search_tracks(self, query: str, *, limit: int = 10) -> list[Track]:
        data = self._get("/search", {"q": query, "limit": limit}, what="track")
        return [_track(t) for t in data.get("data", [])]

    def preview_url(self, track_id: str) -> str:
        return self.get_track(track_id).preview_url

    # --- plumbing --------------------------------------------------------------------------
    def _get(self, path: str, params: dict[str, Any] | None = None, *, what: str) -> dict[str, Any]:
        data = get_json(
            self.session,
            self.base_url + path,
            provider=NAME,
            params=params,
            budget=budget_for(NAME),
            what=what,
        )
        return _check(data, what)


# ASCII digits only: str.isdigit() also accepts "²" or "٣", which int() then refuses (a 500).
_ID = re.compile(r"[0-9]{1,20}")


def _id(value: str, what: str) -> int:
    """Deezer ids are numbers; anything else cannot exist (and must not reach the URL path)."""
    if not _ID.fullmatch(str(value)):
        raise NotFound(NAME, what, detail=f"not a Deezer id: {value!r}")
    return int(value)


def _check(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ProviderUnavailable(NAME, detail=f"unexpected JSON: {str(data)[:200]}")
    error = data.get("error")
    if not error:
        return data
    code = error.get("code") if isinstance(error, dict) else None
    detail = f"Deezer error body: {error}"
    if code == _QUOTA:
        # Deezer gives no retry hint; its window is 5 seconds.
        raise RateLimited(NAME, 5, detail=detail)
    if code == _NO_DATA:
        raise NotFound(NAME, what, detail=detail)
    if code in (200, 300):
        raise BadCredentials(NAME, detail=detail)
    raise ProviderUnavailable(NAME, detail=detail)


def _page(data: dict[str, Any], offset: int, limit: int, items: list[Any]) -> Page[Any]:
    total = data.get("total")
    has_more = bool(data.get("next")) or (
        isinstance(total, int) and offset + len(items) < total and bool(items)
    )
    return Page(
        items=tuple(items),
        offset=offset,
        limit=limit,
        total=total if isinstance(total, int) else None,
        next_offset=offset + len(items) if has_more else None,
    )


def _artist(data: dict[str, Any]) -> Artist:
    return Artist(
        provider=NAME,
        id=str(data["id"]),
        name=data.get("name", ""),
        image_url=data.get("picture_medium") or data.get("picture_big") or "",
    )


def _album(data: dict[str, Any]) -> Album:
    return Album(
        provider=NAME,
        id=str(data["id"]),
        title=data.get("title", ""),
        artist=(data.get("artist") or {}).get("name", ""),
        image_url=data.get("cover_medium") or data.get("cover_big") or "",
        release_date=data.get("release_date", "") or "",
        record_type=data.get("record_type", "") or "",
        track_count=data.get("nb_tracks"),
    )


def _track(data: dict[str, Any]) -> Track:
    album = data.get("album") or {}
    # Unreadable tracks (not licensed here) have a preview link that does not play.
    preview = (data.get("preview") or "") if data.get("readable", True) else ""
    return Track(
        provider=NAME,
        id=str(data["id"]),
        title=data.get("title", ""),
        artist=(data.get("artist") or {}).get("name", ""),
        album=album.get("title", ""),
        album_id=str(album.get("id", "")),
        duration_s=data.get("duration"),
        isrc=data.get("isrc", "") or "",
        artwork_url=album.get("cover_medium") or album.get("cover_big") or "",
        track_number=data.get("track_position"),
        preview_url=preview,
        has_preview=bool(preview),
    )
