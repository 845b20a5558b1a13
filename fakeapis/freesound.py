"""A fake Freesound API v2: /apiv2/search/ (query, filter on tag/license/bpm, page, page_size,
fields), /apiv2/sounds/<id>/ and the preview files, with token auth and Freesound's error bodies."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from .audio import sine_wav
from .server import FakeServer, Request, Response, json_response

API_KEY = "fake-freesound-key"

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
        token = request.arg("token") or request.headers.get("Authorization", "").removeprefix("Token ")
        if token != self.api_key:
            return json_response({"detail": "Invalid token."}, status=401)
        if request.path in {"/apiv2/search/", "/apiv2/search/text/"}:
            return self._search(request)
        if m := re.fullmatch(r"/apiv2/sounds/(\d+)/", request.path):
            fields = tuple(request.arg("fields").split(",")) if request.arg("fields") else ALL_FIELDS
            return json_response(self.sound_json(self.sounds[int(m[1])], fields))
        return None

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
