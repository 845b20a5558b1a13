"""Turning a choice on the New prediction page into a prediction, through predictions' one service."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.core.files.uploadedfile import UploadedFile

from .errors import ProviderUnavailable, RateLimited
from .previews import resolve_preview_url
from .providers import get_provider
from .types import Artist, Track

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from accounts.models import User
    from predictions.models import Prediction


def prediction_create_from_track(*, user: User, provider: str, track_id: str) -> Prediction:
    """The track is fetched again by id: the page's copy of its title or ISRC is never trusted.
    Only ids and the ISRC are stored; the preview is resolved when the job runs."""
    from predictions.services import prediction_create

    track = get_provider(provider).get_track(track_id)
    _check_preview(track)
    return prediction_create(
        user=user,
        source=track.provider,
        source_track_id=track.id,
        isrc=track.isrc,
        title=track.title,
        artist=track.artist,
        album=track.album,
        artwork_url=track.artwork_url,
        duration_s=track.duration_s,
    )


def _check_preview(track: Track) -> None:
    """Refuse a track no preview can be found for (NoPreview), so no job is queued only to fail.
    A busy or failing provider is no reason to refuse: the job resolves the preview again anyway."""
    try:
        resolve_preview_url(
            provider=track.provider,
            track_id=track.id,
            isrc=track.isrc,
            title=track.title,
            artist=track.artist,
        )
    except (RateLimited, ProviderUnavailable) as exc:
        log.info("Preview of %s:%s not checked now (%s); the job will", track.provider, track.id, exc.detail)


def prediction_create_from_upload(*, user: User, upload: UploadedFile) -> Prediction:
    """`upload` must have passed catalog.uploads.validate_upload."""
    from predictions.services import prediction_create

    title = Path(upload.name or "Uploaded song").stem.replace("_", " ").strip()[:300] or "Uploaded song"
    return prediction_create(user=user, source="upload", title=title, upload=upload)


# --- Search: songs and artists in one list ----------------------------------------------------------

RESULTS_PER_KIND = 10  # Spotify's search answers at most 10 per type and page


@dataclass(frozen=True)
class SearchResult:
    kind: str  # "artist" or "song"
    artist: Artist | None = None
    song: Track | None = None


@dataclass(frozen=True)
class SearchPage:
    """One page of a search: artists and songs in one list, paged together by a shared offset."""

    items: tuple[SearchResult, ...]
    offset: int
    limit: int
    has_more: bool

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.has_more else None

    @property
    def previous_offset(self) -> int | None:
        return max(self.offset - self.limit, 0) if self.offset > 0 else None


def catalog_search(*, provider: str, query: str, offset: int = 0) -> SearchPage:
    """Artists named like the query and songs titled like it, in one list: an artist whose name is
    the query comes first (someone typed a band's name), then the songs, then the other artists."""
    catalog = get_provider(provider)
    artists = catalog.search_artists(query, offset=offset, limit=RESULTS_PER_KIND)
    songs = catalog.search_songs(query, offset=offset, limit=RESULTS_PER_KIND)
    wanted = " ".join(query.lower().split())
    named = [a for a in artists.items if " ".join(a.name.lower().split()) == wanted]
    others = [a for a in artists.items if a not in named]
    items = (
        *(SearchResult("artist", artist=a) for a in named),
        *(SearchResult("song", song=s) for s in songs.items),
        *(SearchResult("artist", artist=a) for a in others),
    )
    return SearchPage(
        items=items, offset=offset, limit=RESULTS_PER_KIND, has_more=artists.has_more or songs.has_more
    )
