"""What the New prediction page chose, as a track identity. Creating the prediction is the
predictions app's job: the catalog only knows songs."""

from __future__ import annotations

from .providers import get_provider
from .types import TrackIdentity


def track_identity_fetch(*, provider: str, track_id: str) -> TrackIdentity:
    """The track is fetched again by id: the page's copy of its title or ISRC is never trusted."""
    return TrackIdentity.from_track(get_provider(provider).get_track(track_id))
