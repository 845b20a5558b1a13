"""What every catalog provider returns: small frozen dataclasses, independent of the provider's JSON."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Artist:
    provider: str
    id: str
    name: str
    image_url: str = ""


@dataclass(frozen=True)
class Album:
    provider: str
    id: str
    title: str
    artist: str = ""
    image_url: str = ""
    release_date: str = ""
    record_type: str = ""  # album, single, compilation, ep
    track_count: int | None = None

    @property
    def year(self) -> str:
        return self.release_date[:4]


@dataclass(frozen=True)
class Track:
    provider: str
    id: str
    title: str
    artist: str
    album: str = ""
    album_id: str = ""
    duration_s: int | None = None
    isrc: str = ""
    artwork_url: str = ""
    track_number: int | None = None
    # Expiring: used the moment it is read, never cached or stored (see catalog.cache).
    preview_url: str = ""
    # Whether the provider itself offers a preview: False means it says there is none (the track
    # cannot be picked), None that it does not say (Spotify: resolved from Deezer or iTunes).
    has_preview: bool | None = None

    @property
    def duration_label(self) -> str:
        if self.duration_s is None:
            return ""
        minutes, seconds = divmod(self.duration_s, 60)
        return f"{minutes}:{seconds:02d}"


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list. `next_offset` is None on the last page."""

    items: tuple[T, ...]
    offset: int
    limit: int
    total: int | None = None
    next_offset: int | None = None

    @property
    def has_more(self) -> bool:
        return self.next_offset is not None

    @property
    def previous_offset(self) -> int | None:
        return max(self.offset - self.limit, 0) if self.offset > 0 else None


@dataclass(frozen=True)
class TrackIdentity:
    """Which song a prediction is about: enough to find its audio again and to show it.

    Preview URLs expire, so none is kept: the worker resolves a fresh one from these ids."""

    source: str
    source_track_id: str = ""
    isrc: str = ""
    title: str = ""
    artist: str = ""
    album: str = ""
    artwork_url: str = ""
    duration_s: int | None = None

    @classmethod
    def from_track(cls, track: Track) -> TrackIdentity:
        return cls(
            source=track.provider,
            source_track_id=track.id,
            isrc=track.isrc,
            title=track.title,
            artist=track.artist,
            album=track.album,
            artwork_url=track.artwork_url,
            duration_s=track.duration_s,
        )

    @classmethod
    def for_upload(cls, filename: str) -> TrackIdentity:
        """An upload is known by its file name only, tidied into a title. A Windows path keeps only
        its last part, and a name of dots alone (`...wav`) is no title."""
        title = Path(filename.replace("\\", "/")).stem.replace("_", " ").strip()
        return cls(source="upload", title=title[:300] if title.strip(". ") else "Uploaded song")
