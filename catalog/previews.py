"""Find a playable 30-second preview for a catalog track, at the moment it is needed.

Never store the result: Deezer's links expire after about 15 minutes. The worker calls this just
before downloading; the player endpoints call it when someone presses play.

Order: the provider's own preview (Deezer's `preview`; Spotify's `preview_url`, null for apps
made since late 2024) → Deezer by ISRC → Deezer search on artist + title → iTunes search. Search
results must pass catalog.matching.is_same_recording.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

from .download import download_preview
from .errors import CatalogError, NoPreview, NotFound, PreviewExpired, ProviderUnavailable, RateLimited
from .matching import is_same_recording, main_artist, normalise_title
from .providers import get_provider, itunes
from .providers.deezer import DeezerProvider
from .types import TrackIdentity

log = logging.getLogger(__name__)

_ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}\d{7}$")


def resolve_preview_url(
    *, provider: str, track_id: str, isrc: str = "", title: str = "", artist: str = ""
) -> str:
    """A fresh preview URL for this track, or NoPreview. Rate limits and outages propagate
    (RateLimited, ProviderUnavailable) so that the caller can retry instead of giving up."""
    if provider in ("deezer", "spotify") and track_id:
        try:
            own = get_provider(provider, cached=False).preview_url(track_id)
        except NotFound:
            own = ""
        if own:
            return own
        if provider == "spotify" and not (isrc and title and artist):
            isrc, title, artist = _spotify_identity(track_id, isrc, title, artist)
    for attempt in (_deezer_by_isrc, _deezer_by_search, _itunes_by_search):
        url = attempt(
            isrc=isrc, title=title, artist=artist, exclude_id=track_id if provider == "deezer" else ""
        )
        if url:
            return url
    raise NoPreview(provider=provider, detail=f"{provider}:{track_id} isrc={isrc!r} {artist!r} - {title!r}")


def track_preview_url(track: TrackIdentity) -> str:
    """resolve_preview_url for a stored track identity."""
    return resolve_preview_url(
        provider=track.source,
        track_id=track.source_track_id,
        isrc=track.isrc,
        title=track.title,
        artist=track.artist,
    )


def track_preview_check(track: TrackIdentity) -> None:
    """Refuse a track no preview can be found for (NoPreview), so no job is queued only to fail.
    A busy or failing provider is no reason to refuse: the job resolves the preview again anyway."""
    try:
        track_preview_url(track)
    except (RateLimited, ProviderUnavailable) as exc:
        log.info(
            "Preview of %s:%s not checked now (%s); the job will",
            track.source,
            track.source_track_id,
            exc.detail,
        )


def track_preview_fetch(track: TrackIdentity, *, dest_path: Path) -> Path:
    """fetch_preview for a stored track identity."""
    return fetch_preview(
        provider=track.source,
        track_id=track.source_track_id,
        isrc=track.isrc,
        title=track.title,
        artist=track.artist,
        dest_path=dest_path,
    )


def fetch_preview(
    *, provider: str, track_id: str, isrc: str = "", title: str = "", artist: str = "", dest_path: Path
) -> Path:
    """Resolve and download in one go; a link that expired between the two is resolved again, once."""

    def resolve() -> str:
        return resolve_preview_url(
            provider=provider, track_id=track_id, isrc=isrc, title=title, artist=artist
        )

    return _download_with_refresh(resolve, lambda url: download_preview(url, dest_path))


def _download_with_refresh(resolve: Callable[[], str], download: Callable[[str], Path]) -> Path:
    try:
        return download(resolve())
    except PreviewExpired:
        log.info("Preview link expired before the download; resolving a fresh one")
        return download(resolve())


def _spotify_identity(track_id: str, isrc: str, title: str, artist: str) -> tuple[str, str, str]:
    try:
        track = get_provider("spotify").get_track(track_id)
    except NotFound:  # Spotify since switched off here, or the track is gone: use what was stored
        return isrc, title, artist
    return isrc or track.isrc, title or track.title, artist or track.artist


def _deezer_by_isrc(*, isrc: str, title: str, artist: str, exclude_id: str) -> str:
    isrc = isrc.strip().upper().replace("-", "")
    if not _ISRC.match(isrc):
        return ""
    try:
        track = DeezerProvider().track_by_isrc(isrc)
    except NotFound:
        return ""
    # An ISRC names one recording, so no title check; but Deezer's answer must carry that ISRC.
    if track.isrc.upper() != isrc:
        log.info("Deezer answered ISRC %s with a track of ISRC %s; ignored", isrc, track.isrc)
        return ""
    return track.preview_url


def _deezer_by_search(*, isrc: str, title: str, artist: str, exclude_id: str) -> str:
    if not (title and artist):
        return ""
    deezer = DeezerProvider()
    main = main_artist(artist) or artist
    # Deezer's field search is reported flaky; the free-text query is the fallback.
    for query in (f'artist:"{main}" track:"{title}"', f"{main} {normalise_title(title)}"):
        for track in deezer.search_tracks(query):
            if track.id == exclude_id or not track.preview_url:
                continue
            if is_same_recording(
                want_title=title, want_artist=artist, got_title=track.title, got_artist=track.artist
            ):
                return track.preview_url
            log.info("Deezer result %r by %r rejected for %r by %r", track.title, track.artist, title, artist)
    return ""


def _itunes_by_search(*, isrc: str, title: str, artist: str, exclude_id: str) -> str:
    if not (title and artist and itunes.is_enabled()):
        return ""
    try:
        songs = itunes.search_songs(term=f"{main_artist(artist) or artist} {title}")
    except CatalogError as exc:
        # iTunes is a bonus; its throttling must not hide that Deezer simply had nothing.
        log.warning("iTunes search failed: %s", exc.detail or exc)
        return ""
    for song in songs:
        if is_same_recording(
            want_title=title, want_artist=artist, got_title=song.title, got_artist=song.artist
        ):
            return song.preview_url
    return ""
