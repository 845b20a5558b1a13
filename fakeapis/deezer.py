"""A fake api.deezer.com: search, artist, artist albums, album, album tracks, track, track by ISRC,
and signed preview links that answer 403 once expired (Deezer's live about 15 minutes)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from .audio import png_square, sine_wav
from .server import FakeServer, Request, Response, json_response

PREVIEW_TTL = 900
# Artist pictures and album covers are solid squares; a colour per id tells them apart on a page
# (the demo's catalog pages show seven artists and their albums side by side).
PICTURE_COLOURS = (
    (99, 102, 241),
    (236, 72, 153),
    (16, 185, 129),
    (245, 158, 11),
    (14, 165, 233),
    (139, 92, 246),
    (239, 68, 68),
    (20, 184, 166),
)


def picture_colour(ident: int) -> tuple[int, int, int]:
    return PICTURE_COLOURS[ident % len(PICTURE_COLOURS)]


@dataclass
class DzArtist:
    id: int
    name: str


@dataclass
class DzAlbum:
    id: int
    title: str
    artist_id: int
    release_date: str = "2001-03-07"
    record_type: str = "album"
    track_ids: list[int] = field(default_factory=list)


@dataclass
class DzTrack:
    id: int
    title: str
    artist_id: int
    album_id: int
    isrc: str
    duration: int = 200
    has_preview: bool = True


def _catalog() -> tuple[dict[int, DzArtist], dict[int, DzAlbum], dict[int, DzTrack]]:
    artists = {a.id: a for a in [DzArtist(27, "Daft Punk"), DzArtist(28, "Daft Punk Tribute Band")]}
    # 30 "Echo" artists so that artist search has a second page (Deezer's default page is 25).
    artists.update({1000 + n: DzArtist(1000 + n, f"Echo Artist {n}") for n in range(1, 31)})
    albums = {
        302127: DzAlbum(302127, "Discovery", 27),
        302128: DzAlbum(302128, "Homework", 27, "1997-01-20"),
        999001: DzAlbum(999001, "Discovery Covers", 28, "2015-05-05"),
    }
    # 27 more Daft Punk releases so that the artist's albums have a second page.
    for n in range(1, 28):
        albums[400000 + n] = DzAlbum(400000 + n, f"Live Set {n}", 27, f"20{n:02d}-01-01", "single")
    tracks = {
        t.id: t
        for t in [
            DzTrack(3135553, "One More Time", 27, 302127, "GBDUW0000053", 320),
            DzTrack(3135554, "Aerodynamic", 27, 302127, "GBDUW0000054", 212),
            DzTrack(3135555, "Digital Love", 27, 302127, "GBDUW0000055", 301),
            DzTrack(3135556, "Harder Better Faster Stronger", 27, 302127, "GBDUW0000059", 224),
            DzTrack(3135560, "Veridis Quo", 27, 302127, "GBDUW0000060", 345, has_preview=False),
            DzTrack(3136001, "Da Funk", 27, 302128, "GBDUW9600001", 328),
            DzTrack(9990001, "Something About Us", 28, 999001, "FRXXX1500001", 232),
        ]
    }
    for n in range(1, 28):
        tracks[500000 + n] = DzTrack(500000 + n, f"Live Track {n}", 27, 400000 + n, f"FRLIV00{n:05d}", 180)
    for track in tracks.values():
        albums[track.album_id].track_ids.append(track.id)
    return artists, albums, tracks


class FakeDeezer(FakeServer):
    name = "fake-deezer"

    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self.artists, self.albums, self.tracks = _catalog()
        self.clock_offset = 0.0

    def reset(self) -> None:
        super().reset()
        self.clock_offset = 0.0

    # --- test controls ---------------------------------------------------------------------
    def now(self) -> float:
        return time.time() + self.clock_offset

    def expire_previews(self) -> None:
        """Move the fake's clock past the lifetime of every preview link handed out so far."""
        self.clock_offset += PREVIEW_TTL + 1

    def answer_error(
        self,
        code: int = 4,
        message: str = "Quota limit exceeded",
        type_: str = "Exception",
        *,
        path: str = "",
        times: int = 1,
    ) -> None:
        import json

        from .server import Fault

        body = json.dumps({"error": {"type": type_, "message": message, "code": code}}).encode()
        self.add_fault(Fault(200, body, {"Content-Type": "application/json"}, path=path, times=times))

    def error_body(self, status: int, message: str) -> dict:
        return {"error": {"type": "Exception", "message": message, "code": status}}

    # --- JSON shapes -----------------------------------------------------------------------
    def _image(self, kind: str, ident: int) -> dict[str, str]:
        base = f"{self.url}/images/{kind}/{ident}"
        key = "picture" if kind == "artist" else "cover"
        return {
            key: f"{self.url}/{kind}/{ident}/image",
            f"{key}_small": f"{base}/56x56.png",
            f"{key}_medium": f"{base}/250x250.png",
            f"{key}_big": f"{base}/500x500.png",
            f"{key}_xl": f"{base}/1000x1000.png",
        }

    def artist_json(self, artist: DzArtist) -> dict:
        return {
            "id": artist.id,
            "name": artist.name,
            "link": f"https://www.deezer.com/artist/{artist.id}",
            **self._image("artist", artist.id),
            "nb_album": sum(1 for a in self.albums.values() if a.artist_id == artist.id),
            "nb_fan": 1000,
            "radio": True,
            "tracklist": f"{self.url}/artist/{artist.id}/top?limit=50",
            "type": "artist",
        }

    def album_json(self, album: DzAlbum, *, full: bool = False) -> dict:
        data = {
            "id": album.id,
            "title": album.title,
            "link": f"https://www.deezer.com/album/{album.id}",
            **self._image("album", album.id),
            "md5_image": "0" * 32,
            "genre_id": 113,
            "fans": 100,
            "release_date": album.release_date,
            "record_type": album.record_type,
            "tracklist": f"{self.url}/album/{album.id}/tracks",
            "explicit_lyrics": False,
            "type": "album",
        }
        if full:
            artist = self.artists[album.artist_id]
            data |= {
                "nb_tracks": len(album.track_ids),
                "upc": "724384960650",
                "label": "Parlophone (France)",
                "genres": {"data": [{"id": 113, "name": "Dance", "picture": "", "type": "genre"}]},
                "artist": {
                    "id": artist.id,
                    "name": artist.name,
                    **self._image("artist", artist.id),
                    "type": "artist",
                },
            }
        return data

    def preview_link(self, track: DzTrack) -> str:
        if not track.has_preview:
            return ""
        exp = int(self.now()) + PREVIEW_TTL
        path = f"/preview/{track.id}.mp3"
        return (
            f"{self.url}{path}?hdnea=exp={exp}~acl={path}*~data=user_id=0,application_id=42~hmac={'0' * 64}"
        )

    def track_json(self, track: DzTrack, *, full: bool = True) -> dict:
        artist = self.artists[track.artist_id]
        album = self.albums[track.album_id]
        data: dict = {
            "id": track.id,
            "readable": True,
            "title": track.title,
            "title_short": track.title,
            "title_version": "",
            "isrc": track.isrc,
            "link": f"https://www.deezer.com/track/{track.id}",
            "duration": track.duration,
            "track_position": album.track_ids.index(track.id) + 1,
            "disk_number": 1,
            "rank": 500000,
            "explicit_lyrics": False,
            "explicit_content_lyrics": 0,
            "explicit_content_cover": 0,
            "preview": self.preview_link(track),
            "md5_image": "0" * 32,
            "artist": {
                "id": artist.id,
                "name": artist.name,
                "tracklist": f"{self.url}/artist/{artist.id}/top",
                "type": "artist",
            },
            "type": "track",
        }
        if full:
            data |= {
                "release_date": album.release_date,
                "bpm": 123,
                "gain": -12.4,
                "available_countries": ["FR", "GB", "US"],
            }
            data["artist"] |= {
                "link": f"https://www.deezer.com/artist/{artist.id}",
                **self._image("artist", artist.id),
            }
        data["album"] = {
            k: v
            for k, v in self.album_json(album).items()
            if k not in {"genre_id", "fans", "record_type", "explicit_lyrics"}
        }
        return data

    def _page(self, request: Request, items: list[dict]) -> dict:
        index = max(request.int_arg("index", 0), 0)
        limit = max(request.int_arg("limit", 25), 1)
        page: dict = {"data": items[index : index + limit], "total": len(items)}
        params = {k: v for k, v in request.query.items() if k not in {"index"}}
        if index + limit < len(items):
            page["next"] = f"{self.url}{request.path}?{urlencode({**params, 'index': index + limit})}"
        if index > 0:
            page["prev"] = f"{self.url}{request.path}?{urlencode({**params, 'index': max(index - limit, 0)})}"
        return page

    # --- routes ----------------------------------------------------------------------------
    def route(self, request: Request) -> Response | None:
        path = request.path.rstrip("/")
        if path == "/search/artist":
            words = request.arg("q").lower().split()
            found = [a for a in self.artists.values() if words and all(w in a.name.lower() for w in words)]
            return json_response(self._page(request, [self.artist_json(a) for a in found]))
        if path in {"/search", "/search/track"}:
            tracks = self._search_tracks(request.arg("q"))
            return json_response(self._page(request, [self.track_json(t, full=False) for t in tracks]))
        if m := re.fullmatch(r"/artist/(\d+)", path):
            return json_response(self.artist_json(self.artists[int(m[1])]))
        if m := re.fullmatch(r"/artist/(\d+)/albums", path):
            self.artists[int(m[1])]  # noqa: B018 (unknown artist -> Deezer's error body)
            albums = [a for a in self.albums.values() if a.artist_id == int(m[1])]
            return json_response(self._page(request, [self.album_json(a) for a in albums]))
        if m := re.fullmatch(r"/album/(\d+)", path):
            return json_response(self.album_json(self.albums[int(m[1])], full=True))
        if m := re.fullmatch(r"/album/(\d+)/tracks", path):
            album = self.albums[int(m[1])]
            items = [self.track_json(self.tracks[t], full=False) for t in album.track_ids]
            for item in items:
                del item["album"]  # album tracks carry no album object
            return json_response(self._page(request, items))
        if m := re.fullmatch(r"/track/isrc:([A-Z0-9]+)", path):
            track = next((t for t in self.tracks.values() if t.isrc == m[1]), None)
            return json_response(self.track_json(track)) if track else self.not_found(request)
        if m := re.fullmatch(r"/track/(\d+)", path):
            return json_response(self.track_json(self.tracks[int(m[1])]))
        if m := re.fullmatch(r"/preview/(\d+)\.mp3", path):
            return self._preview(request, int(m[1]))
        if m := re.fullmatch(r"/images/(artist|album)/(\d+)/\w+\.png", path):
            return Response(200, png_square(picture_colour(int(m[2]))), {"Content-Type": "image/png"})
        return None

    def not_found(self, request: Request) -> Response:
        # Deezer answers unknown ids with HTTP 200 and an error body.
        return json_response({"error": {"type": "DataException", "message": "no data", "code": 800}})

    def _search_tracks(self, q: str) -> list[DzTrack]:
        """Field search (artist:"..." track:"...") or free text, ignoring case and punctuation,
        which is roughly how forgiving Deezer's own search is."""
        fields = {k: _words(v) for k, v in re.findall(r'(artist|track|album):"([^"]*)"', q)}
        if fields:

            def ok(t: DzTrack) -> bool:
                artist, title = _words(self.artists[t.artist_id].name), _words(t.title)
                return fields.get("artist", "") in artist and fields.get("track", "") in title

            return [t for t in self.tracks.values() if ok(t)]
        words = _words(q).split()
        return [
            t
            for t in self.tracks.values()
            if words and all(w in _words(f"{t.title} {self.artists[t.artist_id].name}") for w in words)
        ]

    def _preview(self, request: Request, track_id: int) -> Response:
        match = re.match(r"exp=(\d+)~", request.arg("hdnea"))
        if track_id not in self.tracks or not match or int(match[1]) < self.now():
            # What Akamai answers for an expired or unsigned link.
            return Response(
                403, b"<HTML><HEAD><TITLE>Access Denied</TITLE></HEAD></HTML>", {"Content-Type": "text/html"}
            )
        return Response(200, self.preview_audio(track_id), {"Content-Type": "audio/mpeg"})

    def preview_audio(self, track_id: int) -> bytes:
        """The preview's bytes (the demo serves rendered music here)."""
        return sine_wav()


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())
