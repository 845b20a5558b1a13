"""A fake Freesound API v2: /apiv2/search/ (query, filter on tag/license/bpm, page, page_size,
fields), /apiv2/sounds/<id>/ and the preview files, with token auth and Freesound's error bodies;
and the OAuth2 authorization-code grant as documented (docs/api-notes.md D.1): the authorize page
with an "Authorize" button, /apiv2/oauth2/access_token/ (authorization_code and refresh_token
grants) and /apiv2/sounds/<id>/download/ (the original, with a Bearer token)."""

from __future__ import annotations

import html
import re
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from .audio import sine_wav
from .server import FakeServer, Request, Response, json_response

API_KEY = "fake-freesound-key"
# The OAuth2 client the site registers with Freesound (client id and secret of its API credentials).
CLIENT_ID = "fake-freesound-client"
CLIENT_SECRET = "fake-freesound-secret"  # noqa: S105 (a fake's fixed credential)
CODE_SECONDS = 10 * 60  # authorization codes live 10 minutes
ACCESS_SECONDS = 86399  # access tokens 24 h

CC0 = "http://creativecommons.org/publicdomain/zero/1.0/"
BY4 = "https://creativecommons.org/licenses/by/4.0/"
BY3 = "http://creativecommons.org/licenses/by/3.0/"
BYNC = "https://creativecommons.org/licenses/by-nc/4.0/"
LICENCE_NAMES = {
    CC0: "creative commons 0",
    BY4: "attribution",
    BY3: "attribution",
    BYNC: "attribution noncommercial",
}
DEFAULT_FIELDS = ("id", "name", "tags", "username", "license")
ALL_FIELDS = tuple(
    [
        "id",
        "url",
        "name",
        "tags",
        "description",
        "license",
        "type",
        "channels",
        "filesize",
        "duration",
        "samplerate",
        "username",
        "previews",
        "images",
        "num_downloads",
        "avg_rating",
        "bpm",
        "gen_ai_preference",
    ]
)


@dataclass
class FsSound:
    id: int
    name: str
    tags: tuple[str, ...]
    username: str
    license: str
    duration: float
    bpm: int | None = None
    user_id: int = 5001


def _sounds() -> list[FsSound]:
    styles = {
        "house": (124, ("house", "loop", "drums")),
        "techno": (130, ("techno", "loop", "drums")),
        "trance": (138, ("trance", "loop", "synth")),
        "ambient": (None, ("ambient", "pad", "drone")),
        "rock": (110, ("rock", "guitar", "loop")),
    }
    licences = (CC0, BY4, BY3, BYNC)
    sounds = []
    for s, (style, (bpm, tags)) in enumerate(styles.items()):
        for n in range(8):
            ident = 100001 + s * 100 + n
            sounds.append(
                FsSound(
                    ident,
                    f"{style}_{n + 1}.wav",
                    tags,
                    f"sampleuser{n % 3 + 1}",
                    licences[n % 4],
                    4.0 + n,
                    bpm + n - 4 if bpm else None,
                    5001 + n % 3,
                )
            )
    return sounds


class FakeFreesound(FakeServer):
    name = "fake-freesound"

    def __init__(self, port: int = 0, api_key: str = API_KEY) -> None:
        super().__init__(port)
        self.api_key = api_key
        self.sounds = {s.id: s for s in _sounds()}
        # OAuth2: the callback URL registered with the client (Freesound takes no redirect_uri
        # from the request: it sends the user back to the one registered), and what was issued.
        self.oauth_callback = ""
        self.access_seconds = ACCESS_SECONDS
        self.codes: dict[str, float] = {}  # code -> issued at
        self.access_tokens: dict[str, float] = {}  # token -> expires at
        self.refresh_tokens: set[str] = set()

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.oauth_callback = ""
            self.access_seconds = ACCESS_SECONDS
            self.codes.clear()
            self.access_tokens.clear()
            self.refresh_tokens.clear()

    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working (as 24 h later)."""
        with self._lock:
            self.access_tokens = dict.fromkeys(self.access_tokens, 0.0)

    def revoke_all(self) -> None:
        """The user removed the app's access on Freesound: no token works any more."""
        with self._lock:
            self.access_tokens.clear()
            self.refresh_tokens.clear()

    def original_audio(self, sound_id: int) -> bytes | None:
        """The original upload's bytes: a real, small WAV (None: the sound has none)."""
        return sine_wav(1.5, 220.0, 44100) if sound_id in self.sounds else None

    @property
    def api_url(self) -> str:
        return f"{self.url}/apiv2/"

    def error_body(self, status: int, message: str) -> dict:
        return {"detail": message}

    def answer_429(
        self, retry_after: int | None = None, *, body=None, path: str = "", times: int = 1
    ) -> None:
        # Freesound sets no Retry-After.
        super().answer_429(
            retry_after,
            body=body
            or {"detail": "Request was throttled because of exceeding a request limit rate (60/minute)"},
            path=path,
            times=times,
        )

    def sound_json(self, sound: FsSound, fields: tuple[str, ...]) -> dict:
        base = f"{self.url}/previews/{sound.id // 1000}/{sound.id}_{sound.user_id}"
        full = {
            "id": sound.id,
            "url": f"https://freesound.org/people/{sound.username}/sounds/{sound.id}/",
            "name": sound.name,
            "tags": list(sound.tags),
            "description": f"A {sound.tags[0]} sample.",
            "license": sound.license,
            "type": "wav",
            "channels": 2,
            "filesize": 100000,
            "duration": sound.duration,
            "samplerate": 44100,
            "username": sound.username,
            "previews": {
                "preview-hq-mp3": f"{base}-hq.mp3",
                "preview-hq-ogg": f"{base}-hq.ogg",
                "preview-lq-mp3": f"{base}-lq.mp3",
                "preview-lq-ogg": f"{base}-lq.ogg",
            },
            "images": {"waveform_m": f"{self.url}/displays/{sound.id}_wave_M.png"},
            "num_downloads": 10,
            "avg_rating": 4.0,
            "bpm": sound.bpm,
            "gen_ai_preference": "",
        }
        return {k: full[k] for k in fields if k in full}

    def route(self, request: Request) -> Response | None:
        if m := re.fullmatch(r"/previews/\d+/(\d+)_\d+-[hl]q\.(mp3|ogg)", request.path):
            return (
                Response(200, sine_wav(2.0, 330.0), {"Content-Type": "audio/mpeg"})
                if int(m[1]) in self.sounds
                else None
            )
        if not request.path.startswith("/apiv2/"):
            return None
        if request.path.startswith("/apiv2/oauth2/"):
            return self._oauth(request)
        if m := re.fullmatch(r"/apiv2/sounds/(\d+)/download/", request.path):
            return self._download(request, int(m[1]))
        token = request.arg("token") or request.headers.get("Authorization", "").removeprefix("Token ")
        if token != self.api_key:
            return json_response({"detail": "Invalid token."}, status=401)
        if request.path in {"/apiv2/search/", "/apiv2/search/text/"}:
            return self._search(request)
        if m := re.fullmatch(r"/apiv2/sounds/(\d+)/", request.path):
            fields = tuple(request.arg("fields").split(",")) if request.arg("fields") else ALL_FIELDS
            return json_response(self.sound_json(self.sounds[int(m[1])], fields))
        return None

    # --- OAuth2 (authorization-code grant) ---------------------------------------------------

    def _oauth(self, request: Request) -> Response | None:
        if request.path == "/apiv2/oauth2/authorize/":
            return self._authorize(request)
        if request.path == "/apiv2/oauth2/access_token/" and request.method == "POST":
            return self._access_token(request)
        return None

    def _authorize(self, request: Request) -> Response:
        """GET: the page asking the signed-in Freesound user to let the app in. POST (its buttons):
        back to the registered callback URL with a code and the state, or error=access_denied."""
        if request.arg("client_id") != CLIENT_ID or request.arg("response_type") != "code":
            return Response(
                400, b"<h1>Invalid client_id or response_type</h1>", {"Content-Type": "text/html"}
            )
        if not self.oauth_callback:
            return Response(400, b"<h1>The app has no callback URL</h1>", {"Content-Type": "text/html"})
        state = request.arg("state")
        if request.method == "POST":
            if request.arg("allow") == "1":
                code = secrets.token_urlsafe(16)
                with self._lock:
                    self.codes[code] = time.time()
                params = {"code": code, "state": state}
            else:
                params = {"error": "access_denied", "state": state}
            return Response(302, b"", {"Location": f"{self.oauth_callback}?{urlencode(params)}"})
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(request.arg(name))}">'
            for name in ("client_id", "response_type", "state")
        )
        page = (
            "<!doctype html><html><head><title>Freesound - Authorize app</title>"
            '<meta name="viewport" content="width=device-width, initial-scale=1"></head><body>'
            "<h1>Authorize Seven/Four</h1><p>Seven/Four wants to access your Freesound account "
            "(read write).</p>"
            f'<form method="post" action="/apiv2/oauth2/authorize/">{hidden}'
            '<button type="submit" name="allow" value="1">Authorize</button> '
            '<button type="submit" name="allow" value="0">Deny</button></form></body></html>'
        )
        return Response(200, page.encode(), {"Content-Type": "text/html; charset=utf-8"})

    def _access_token(self, request: Request) -> Response:
        if request.arg("client_id") != CLIENT_ID or request.arg("client_secret") != CLIENT_SECRET:
            return json_response({"error": "invalid_client"}, status=401)
        grant = request.arg("grant_type")
        with self._lock:
            if grant == "authorization_code":
                issued = self.codes.pop(request.arg("code"), None)  # a code works once
                if issued is None or time.time() - issued > CODE_SECONDS:
                    return json_response({"error": "invalid_grant"}, status=400)
            elif grant == "refresh_token":
                if request.arg("refresh_token") not in self.refresh_tokens:
                    return json_response({"error": "invalid_grant"}, status=400)
                self.refresh_tokens.discard(request.arg("refresh_token"))  # rotated: used once
            else:
                return json_response({"error": "unsupported_grant_type"}, status=400)
            access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
            self.access_tokens[access] = time.time() + self.access_seconds
            self.refresh_tokens.add(refresh)
        return json_response(
            {
                "access_token": access,
                "scope": "read write",
                "expires_in": self.access_seconds,
                "refresh_token": refresh,
            }
        )

    def _download(self, request: Request, sound_id: int) -> Response | None:
        """The original file, for a valid Bearer token only (Token auth gets 401, as on Freesound)."""
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        with self._lock:
            valid = self.access_tokens.get(token, 0.0) > time.time()
        if not valid:
            return json_response({"detail": "Invalid token."}, status=401)
        sound = self.sounds.get(sound_id)
        data = self.original_audio(sound_id) if sound is not None else None
        if sound is None or data is None:
            return None
        return Response(
            200,
            data,
            {"Content-Type": "audio/wav", "Content-Disposition": f'attachment; filename="{sound.name}"'},
        )

    def _search(self, request: Request) -> Response:
        query, filt = request.arg("query"), request.arg("filter")
        if not query and not filt:
            return json_response({"detail": "Malformed request."}, status=400)
        found = [s for s in self.sounds.values() if self._matches(s, query, filt)]
        page_size = min(max(request.int_arg("page_size", 15), 1), 150)
        page = max(request.int_arg("page", 1), 1)
        start = (page - 1) * page_size
        if start and start >= len(found):
            return json_response({"detail": "Not found"}, status=404)
        fields = tuple(request.arg("fields").split(",")) if request.arg("fields") else DEFAULT_FIELDS
        params = {k: v for k, v in request.query.items() if k not in {"page", "token"}}

        def link(n: int) -> str:
            return f"{self.url}/apiv2/search/?{urlencode({**params, 'page': n})}"

        return json_response(
            {
                "count": len(found),
                "previous": link(page - 1) if page > 1 else None,
                "next": link(page + 1) if start + page_size < len(found) else None,
                "results": [self.sound_json(s, fields) for s in found[start : start + page_size]],
            }
        )

    @staticmethod
    def _matches(sound: FsSound, query: str, filt: str) -> bool:
        words = [w for w in query.lower().split() if w]
        text = " ".join((sound.name, *sound.tags)).lower()
        if any(w not in text for w in words):
            return False
        for tag in re.findall(r"tag:(\w+)", filt):
            if tag.lower() not in sound.tags:
                return False
        if "license:" in filt:
            allowed = [
                n.lower() for n in re.findall(r'"([^"]+)"', filt.split("license:", 1)[1].split(")", 1)[0])
            ]
            if LICENCE_NAMES[sound.license] not in allowed:
                return False
        bpm = re.search(r"bpm:\[(\d+) TO (\d+)\]", filt)
        if bpm and (sound.bpm is None or not int(bpm[1]) <= sound.bpm <= int(bpm[2])):
            return False
        if m := re.search(r"duration:\[([\d.*]+) TO ([\d.*]+)\]", filt):
            low = 0.0 if m[1] == "*" else float(m[1])
            high = float("inf") if m[2] == "*" else float(m[2])
            if not low <= sound.duration <= high:
                return False
        return True
