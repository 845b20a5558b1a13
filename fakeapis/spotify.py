"""A fake Spotify Web API: client-credentials token endpoint, search (artists and tracks), artist, artist albums,
album, album tracks and track, with the 2026 limits (search and artist albums: at most 10)."""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from .audio import sine_wav
from .server import FakeServer, Request, Response, json_response

CLIENT_ID = "fake-client-id"
CLIENT_SECRET = "fake-client-secret"  # noqa: S105 (a test value)


def _sid(kind: str, n: int) -> str:
    # Spotify ids are 22 base62 characters.
    stem = f"0{kind}"
    return stem + str(n).rjust(22 - len(stem), "0")


@dataclass
class SpArtist:
    id: str
    name: str


@dataclass
class SpAlbum:
    id: str
    name: str
    artist_id: str
    release_date: str = "2001-03-12"
    album_type: str = "album"


@dataclass
class SpTrack:
    id: str
    name: str
    album_id: str
    artist_ids: tuple[str, ...]
    isrc: str
    duration_ms: int = 200000
    has_preview: bool = False


DAFT = _sid("ARTIST", 1)
DISCOVERY = _sid("ALBUM", 1)
# Named tracks, used by the preview-resolution tests:
ONE_MORE_TIME = _sid("TRACK", 1)  # ISRC known to Deezer
HARDER = _sid("TRACK", 2)  # ISRC unknown to Deezer; Deezer search finds it
SOMETHING_ABOUT_US = _sid("TRACK", 3)  # Deezer search finds only a cover by another artist
FACE_TO_FACE = _sid("TRACK", 4)  # nowhere on Deezer; iTunes has it
SHORT_CIRCUIT = _sid("TRACK", 5)  # still has a Spotify preview_url (an old app)


def _catalog() -> tuple[dict[str, SpArtist], dict[str, SpAlbum], dict[str, SpTrack]]:
    artists = {DAFT: SpArtist(DAFT, "Daft Punk")}
    artists.update(
        {_sid("ARTIST", 100 + n): SpArtist(_sid("ARTIST", 100 + n), f"Echo Artist {n}") for n in range(1, 15)}
    )
    albums = {DISCOVERY: SpAlbum(DISCOVERY, "Discovery", DAFT)}
    # 11 more albums: the artist's albums take two pages of 10.
    for n in range(2, 13):
        albums[_sid("ALBUM", n)] = SpAlbum(
            _sid("ALBUM", n), f"Alive {1995 + n}", DAFT, f"{1995 + n}-06-01", "single"
        )
    tracks = {
        t.id: t
        for t in [
            SpTrack(ONE_MORE_TIME, "One More Time", DISCOVERY, (DAFT,), "GBDUW0000053", 320357),
            SpTrack(HARDER, "Harder, Better, Faster, Stronger", DISCOVERY, (DAFT,), "USXXX9999999", 224693),
            SpTrack(SOMETHING_ABOUT_US, "Something About Us", DISCOVERY, (DAFT,), "USXXX9999998", 232000),
            SpTrack(FACE_TO_FACE, "Face to Face", DISCOVERY, (DAFT,), "USXXX9999997", 240000),
            SpTrack(
                SHORT_CIRCUIT, "Short Circuit", DISCOVERY, (DAFT,), "USXXX9999996", 206000, has_preview=True
            ),
        ]
    }
    for n in range(2, 13):
        tid = _sid("TRACK", 100 + n)
        tracks[tid] = SpTrack(tid, f"Alive Track {n}", _sid("ALBUM", n), (DAFT,), f"USLIV{n:07d}", 180000)
    return artists, albums, tracks


class FakeSpotify(FakeServer):
    name = "fake-spotify"

    def __init__(self) -> None:
        super().__init__()
        self.artists, self.albums, self.tracks = _catalog()
        self.tokens: set[str] = set()

    def reset(self) -> None:
        super().reset()
        self.tokens.clear()

    @property
    def api_url(self) -> str:
        return f"{self.url}/v1/"

    @property
    def token_url(self) -> str:
        return f"{self.url}/api/token"

    # --- JSON shapes -----------------------------------------------------------------------
    def _images(self, ident: str) -> list[dict]:
        return [
            {"url": f"{self.url}/image/{ident}/640.png", "height": 640, "width": 640},
            {"url": f"{self.url}/image/{ident}/300.png", "height": 300, "width": 300},
            {"url": f"{self.url}/image/{ident}/64.png", "height": 64, "width": 64},
        ]

    def simple_artist(self, artist: SpArtist) -> dict:
        return {
            "external_urls": {"spotify": f"https://open.spotify.com/artist/{artist.id}"},
            "href": f"{self.api_url}artists/{artist.id}",
            "id": artist.id,
            "name": artist.name,
            "type": "artist",
            "uri": f"spotify:artist:{artist.id}",
        }

    def artist_json(self, artist: SpArtist) -> dict:
        return self.simple_artist(artist) | {"genres": [], "images": self._images(artist.id)}

    def album_json(self, album: SpAlbum) -> dict:
        return {
            "album_type": album.album_type,
            "total_tracks": sum(1 for t in self.tracks.values() if t.album_id == album.id),
            "external_urls": {"spotify": f"https://open.spotify.com/album/{album.id}"},
            "href": f"{self.api_url}albums/{album.id}",
            "id": album.id,
            "images": self._images(album.id),
            "name": album.name,
            "release_date": album.release_date,
            "release_date_precision": "day",
            "type": "album",
            "uri": f"spotify:album:{album.id}",
            "artists": [self.simple_artist(self.artists[album.artist_id])],
        }

    def simple_track(self, track: SpTrack) -> dict:
        album_tracks = [t.id for t in self.tracks.values() if t.album_id == track.album_id]
        return {
            "artists": [self.simple_artist(self.artists[a]) for a in track.artist_ids],
            "disc_number": 1,
            "duration_ms": track.duration_ms,
            "explicit": False,
            "external_urls": {"spotify": f"https://open.spotify.com/track/{track.id}"},
            "href": f"{self.api_url}tracks/{track.id}",
            "id": track.id,
            "is_local": False,
            "name": track.name,
            "preview_url": f"{self.url}/mp3-preview/{track.id}?cid={CLIENT_ID}"
            if track.has_preview
            else None,
            "track_number": album_tracks.index(track.id) + 1,
            "type": "track",
            "uri": f"spotify:track:{track.id}",
        }

    def track_json(self, track: SpTrack) -> dict:
        return self.simple_track(track) | {
            "album": self.album_json(self.albums[track.album_id]),
            "external_ids": {"isrc": track.isrc},
        }

    def _paging(
        self, request: Request, items: list[dict], *, max_limit: int, default_limit: int
    ) -> dict | Response:
        limit = request.int_arg("limit", default_limit)
        offset = request.int_arg("offset", 0)
        if not 1 <= limit <= max_limit:
            return json_response({"error": {"status": 400, "message": "Invalid limit"}}, status=400)
        params = {k: v for k, v in request.query.items() if k not in {"offset", "limit"}}

        def href(at: int) -> str:
            return f"{self.url}{request.path}?{urlencode({**params, 'offset': at, 'limit': limit})}"

        return {
            "href": href(offset),
            "items": items[offset : offset + limit],
            "limit": limit,
            "next": href(offset + limit) if offset + limit < len(items) else None,
            "offset": offset,
            "previous": href(max(offset - limit, 0)) if offset > 0 else None,
            "total": len(items),
        }

    # --- routes ----------------------------------------------------------------------------
    def route(self, request: Request) -> Response | None:
        if request.path == "/api/token":
            return self._token(request)
        if m := re.fullmatch(r"/mp3-preview/(\w+)", request.path):
            return Response(200, sine_wav(), {"Content-Type": "audio/mpeg"}) if m[1] in self.tracks else None
        if m := re.fullmatch(r"/image/\w+/\d+\.png", request.path):
            from .audio import png_square

            return Response(200, png_square((30, 215, 96)), {"Content-Type": "image/png"})
        if not request.path.startswith("/v1/"):
            return None
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.tokens:
            return json_response({"error": {"status": 401, "message": "Invalid access token"}}, status=401)
        return self._api(request, request.path.removeprefix("/v1").rstrip("/"))

    def _api(self, request: Request, path: str) -> Response | None:
        if path == "/search":
            return self._search(request)
        if m := re.fullmatch(r"/artists/(\w+)", path):
            return json_response(self.artist_json(self.artists[m[1]]))
        if m := re.fullmatch(r"/artists/(\w+)/albums", path):
            self.artists[m[1]]  # noqa: B018 (unknown -> 404)
            groups = set(request.arg("include_groups", "album,single,compilation,appears_on").split(","))
            found = [
                self.album_json(a)
                for a in self.albums.values()
                if a.artist_id == m[1] and a.album_type in groups
            ]
            return self._json_page(request, found, max_limit=10, default_limit=5)
        if m := re.fullmatch(r"/albums/(\w+)", path):
            return json_response(self.album_json(self.albums[m[1]]))
        if m := re.fullmatch(r"/albums/(\w+)/tracks", path):
            self.albums[m[1]]  # noqa: B018
            found = [self.simple_track(t) for t in self.tracks.values() if t.album_id == m[1]]
            return self._json_page(request, found, max_limit=50, default_limit=20)
        if m := re.fullmatch(r"/tracks/(\w+)", path):
            return json_response(self.track_json(self.tracks[m[1]]))
        return None

    def _search(self, request: Request) -> Response:
        """`type` is a comma-separated list; each type answers with its own paging object under its
        plural ("artists", "tracks"), as the Web API's search does. Free text matches names (a track
        also by its artists' names), ignoring case and punctuation."""
        types = request.arg("type").split(",")
        if not types or not set(types) <= {"artist", "track"}:
            return json_response(
                {"error": {"status": 400, "message": "Only artist and track search are faked"}}, status=400
            )
        words = _words(request.arg("q")).split()
        body: dict = {}
        if "artist" in types:
            found = [
                self.artist_json(a)
                for a in self.artists.values()
                if words and all(w in _words(a.name) for w in words)
            ]
            body["artists"] = self._paging(request, found, max_limit=10, default_limit=5)
        if "track" in types:
            found = [
                self.track_json(t)
                for t in self.tracks.values()
                if words
                and all(
                    w in _words(" ".join([t.name, *(self.artists[a].name for a in t.artist_ids)]))
                    for w in words
                )
            ]
            body["tracks"] = self._paging(request, found, max_limit=10, default_limit=5)
        errors = [page for page in body.values() if isinstance(page, Response)]
        return errors[0] if errors else json_response(body)

    def _json_page(
        self, request: Request, items: list[dict], *, max_limit: int, default_limit: int
    ) -> Response:
        page = self._paging(request, items, max_limit=max_limit, default_limit=default_limit)
        return page if isinstance(page, Response) else json_response(page)

    def _token(self, request: Request) -> Response:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if (
            request.headers.get("Authorization") != f"Basic {expected}"
            or request.arg("grant_type") != "client_credentials"
        ):
            return json_response(
                {"error": "invalid_client", "error_description": "Invalid client"}, status=400
            )
        token = secrets.token_hex(16)
        self.tokens.add(token)
        return json_response({"access_token": token, "token_type": "bearer", "expires_in": 3600})

    def not_found(self, request: Request) -> Response:
        if request.path.startswith("/v1/"):
            return json_response({"error": {"status": 404, "message": "Resource not found"}}, status=404)
        return json_response({"error": {"status": 404, "message": "Service not found"}}, status=404)


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())
