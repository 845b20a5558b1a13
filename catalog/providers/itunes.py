"""iTunes Search (no key): the last fallback for a preview when Deezer has none.

Only song search is used; there is no ISRC lookup in the documented API. Apple throttles at about
20 requests a minute and signals it with a bare 403 (docs/api-notes.md §C). Apple's terms ask that
previews promote the store: the player shows a link to the track on Apple Music.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings

from .._http import get_json, new_session
from ..budget import budget_for
from ..errors import ProviderUnavailable

NAME = "itunes"


@dataclass(frozen=True)
class ItunesSong:
    id: str
    title: str
    artist: str
    album: str
    preview_url: str
    store_url: str
    duration_s: int | None


def is_enabled() -> bool:
    return bool(settings.ITUNES_API_URL)


def search_songs(*, term: str, limit: int = 10, session: requests.Session | None = None) -> list[ItunesSong]:
    params = {
        "term": term,
        "media": "music",
        "entity": "song",
        "limit": limit,
        "country": settings.ITUNES_COUNTRY,
    }
    data = get_json(
        session or new_session(),
        settings.ITUNES_API_URL.rstrip("/") + "/search",
        provider=NAME,
        params=params,
        budget=budget_for(NAME),
        what="song",
    )
    if not isinstance(data, dict):
        raise ProviderUnavailable(NAME, detail="unexpected JSON")
    return [_song(r) for r in data.get("results", []) if r.get("kind") == "song" and r.get("previewUrl")]


def _song(data: dict[str, Any]) -> ItunesSong:
    millis = data.get("trackTimeMillis")
    return ItunesSong(
        id=str(data.get("trackId", "")),
        title=data.get("trackName", ""),
        artist=data.get("artistName", ""),
        album=data.get("collectionName", ""),
        preview_url=data["previewUrl"],
        store_url=data.get("trackViewUrl", ""),
        duration_s=round(millis / 1000) if isinstance(millis, int) else None,
    )
