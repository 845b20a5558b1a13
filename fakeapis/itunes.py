"""A fake iTunes Search API (search by term, songs only) with AAC/.m4a preview files."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .audio import fake_m4a
from .server import FakeServer, Request, Response, json_response


@dataclass
class ItTrack:
    id: int
    name: str
    artist: str
    album: str
    millis: int = 240000


class FakeItunes(FakeServer):
    name = "fake-itunes"

    def __init__(self) -> None:
        super().__init__()
        self.tracks = [
            ItTrack(400000004, "Face to Face", "Daft Punk", "Discovery"),
            ItTrack(400000005, "One More Time (Radio Edit)", "Daft Punk", "Alive 2007"),
            ItTrack(400000009, "Face to Face", "Face to Face Revival", "Covers"),
        ]

    def error_body(self, status: int, message: str) -> dict:
        return {"errorMessage": message}

    def track_json(self, track: ItTrack) -> dict:
        return {
            "wrapperType": "track",
            "kind": "song",
            "artistId": 100000001,
            "collectionId": 300000001,
            "trackId": track.id,
            "artistName": track.artist,
            "collectionName": track.album,
            "trackName": track.name,
            "collectionCensoredName": track.album,
            "trackCensoredName": track.name,
            "trackViewUrl": f"https://music.apple.com/us/album/x/300000001?i={track.id}&uo=4",
            "previewUrl": f"{self.url}/itunes-assets/AudioPreview125/fake/mzaf_{track.id}.plus.aac.p.m4a",
            "artworkUrl100": f"{self.url}/image/{track.id}/100x100bb.jpg",
            "trackTimeMillis": track.millis,
            "country": "USA",
            "currency": "USD",
            "primaryGenreName": "Electronic",
            "isStreamable": True,
        }

    def route(self, request: Request) -> Response | None:
        if request.path == "/search":
            words = request.arg("term").replace("+", " ").lower().split()
            limit = request.int_arg("limit", 50)
            found = [
                self.track_json(t)
                for t in self.tracks
                if words and all(w in f"{t.name} {t.artist}".lower() for w in words)
            ][:limit]
            return json_response({"resultCount": len(found), "results": found})
        if re.fullmatch(r"/itunes-assets/.*\.m4a", request.path):
            return Response(200, fake_m4a(), {"Content-Type": "audio/x-m4a"})
        return None

    def throttle(self, times: int = 1) -> None:
        """iTunes signals throttling with a 403 and an empty body."""
        from .server import Fault

        self.add_fault(Fault(403, b"", {}, times=times))
