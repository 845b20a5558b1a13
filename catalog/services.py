"""What the New prediction page searched for and chose: songs and artists in one list, and the
chosen track as a track identity. Creating the prediction is the predictions app's job."""

from __future__ import annotations

from dataclasses import dataclass

from .providers import get_provider
from .types import Artist, Track, TrackIdentity


def track_identity_fetch(*, provider: str, track_id: str) -> TrackIdentity:
    """The track is fetched again by id: the page's copy of its title or ISRC is never trusted."""
    return TrackIdentity.from_track(get_provider(provider).get_track(track_id))


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
