"""TrackIdentity: the one value that says which song a prediction is about."""

from __future__ import annotations

import dataclasses

import pytest

from catalog.types import Track, TrackIdentity


def test_a_catalog_track_becomes_an_identity_without_its_expiring_preview_link():
    track = Track(
        provider="deezer",
        id="3135556",
        title="One More Time",
        artist="Daft Punk",
        album="Discovery",
        duration_s=320,
        isrc="GBDUW0000053",
        artwork_url="https://cdn.example/cover.jpg",
        preview_url="https://cdn.example/expiring.mp3",
    )

    identity = TrackIdentity.from_track(track)

    assert identity == TrackIdentity(
        source="deezer",
        source_track_id="3135556",
        isrc="GBDUW0000053",
        title="One More Time",
        artist="Daft Punk",
        album="Discovery",
        artwork_url="https://cdn.example/cover.jpg",
        duration_s=320,
    )
    assert "preview_url" not in {f.name for f in dataclasses.fields(TrackIdentity)}


@pytest.mark.parametrize(
    ("filename", "title"),
    [
        ("my_song.final.wav", "my song.final"),
        ("", "Uploaded song"),
        ("___.mp3", "Uploaded song"),
        ("...wav", "Uploaded song"),  # dots alone are no title
        ("C:\\Users\\ada\\take 3.wav", "take 3"),  # a Windows path keeps its last part
        ("x" * 400 + ".wav", "x" * 300),
    ],
)
def test_an_upload_is_known_by_its_tidied_file_name(filename: str, title: str):
    assert TrackIdentity.for_upload(filename) == TrackIdentity(source="upload", title=title)


def test_an_identity_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TrackIdentity(source="upload").title = "changed"  # type: ignore[misc]  # the point of the test
