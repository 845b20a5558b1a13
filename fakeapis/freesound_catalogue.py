"""The fake Freesound (fakeapis/freesound.py) extended for the samples app: a catalogue the
tests fill sound by sound (with key, pack and images), the Solr filter syntax parsed for real
(OR groups, ranges, quoted values, negation), real MP3 previews when ffmpeg is present,
waveform images, and 429 bodies naming the minute or the day limit."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .audio import png_square, sine_wav
from .freesound import (
    API_KEY,
    BY3,
    BY4,
    BYNC,
    CC0,
    CLIENT_ID,
    CLIENT_SECRET,
    DEFAULT_FIELDS,
    LICENCE_NAMES,
    FakeFreesound,
)
from .server import Request, Response, json_response

__all__ = [
    "API_KEY",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "FreesoundCatalogue",
    "FsSound",
    "LICENCES",
    "filter_matches",
]

SAMPLING_PLUS = "http://creativecommons.org/licenses/sampling+/1.0/"
LICENCES = {"cc0": CC0, "by4": BY4, "by3": BY3, "bync": BYNC, "sampling+": SAMPLING_PLUS}
_NAMES = {**LICENCE_NAMES, SAMPLING_PLUS: "sampling+"}


@cache
def preview_mp3(seconds: float = 3.0, freq: float = 440.0) -> bytes:
    """A real MP3 when ffmpeg is installed (so browsers play it), else WAV bytes."""
    wav = sine_wav(seconds, freq)
    if shutil.which("ffmpeg") is None:
        return wav
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.wav", Path(tmp) / "out.mp3"
        src.write_bytes(wav)
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-y", "-i", str(src), "-b:a", "64k", str(dst)], check=True
        )
        return dst.read_bytes()


@dataclass
class FsSound:
    """A catalogue entry; field names follow the base fake's so its rendering works unchanged."""

    id: int
    name: str
    username: str
    licence: str = "cc0"  # a key of LICENCES
    duration: float = 8.0
    tags: tuple[str, ...] = ()
    bpm: int | None = None
    tonality: str | None = None
    pack_id: int | None = None
    user_id: int = 5001

    @property
    def license(self) -> str:
        return LICENCES[self.licence]


class FilterError(ValueError):
    pass


# --- A small parser for the Solr filter syntax the docs show ------------------------------------

_TOKEN = re.compile(r'\s*(\(|\)|\[[^\]]*\]|"[^"]*"|[A-Za-z_]+:|-(?=\S)|[^\s()"\[\]:]+)')


def _tokens(text: str) -> list[str]:
    tokens, pos, text = [], 0, text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise FilterError(f"cannot parse filter at {text[pos:]!r}")
        tokens.append(match.group(1))
        pos = match.end()
    return tokens


class _Parser:
    """expr := and ('OR' and)* ; and := unary+ ; unary := '-'? atom ; atom := '(' expr ')' | field value"""

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise FilterError("unexpected end of filter")
        self.pos += 1
        return token

    def parse(self):
        expr = self.expr()
        if self.peek() is not None:
            raise FilterError(f"unexpected {self.peek()!r}")
        return expr

    def expr(self):
        options = [self.conjunction()]
        while self.peek() == "OR":
            self.take()
            options.append(self.conjunction())
        return ("or", options)

    def conjunction(self):
        parts = []
        while self.peek() not in (None, ")", "OR"):
            if self.peek() == "AND":
                self.take()
                continue
            parts.append(self.unary())
        if not parts:
            raise FilterError("empty clause")
        return ("and", parts)

    def unary(self):
        if self.peek() == "-":
            self.take()
            return ("not", self.atom())
        return self.atom()

    def atom(self):
        token = self.take()
        if token == "(":
            inner = self.expr()
            if self.take() != ")":
                raise FilterError("missing )")
            return inner
        if not token.endswith(":"):
            raise FilterError(f"expected field:value, got {token!r}")
        return ("field", token[:-1], self.value())

    def value(self) -> list[str]:
        token = self.take()
        if token != "(":
            return [token]
        values = []
        while (token := self.take()) != ")":
            if token != "OR":
                values.append(token)
        return values


def _field_value(sound: FsSound, name: str) -> Any:
    values: dict[str, Any] = {
        "license": _NAMES[sound.license],
        "tag": [t.lower() for t in sound.tags],
        "duration": sound.duration,
        "bpm": sound.bpm,
        "tonality": (sound.tonality or "").lower(),
        "loopable": "true" if "loop" in sound.tags else "false",
        "single_event": "true" if "one-shot" in sound.tags else "false",
        "username": sound.username.lower(),
        "id": sound.id,
    }
    if name not in values:
        raise FilterError(f"unknown filter field {name!r}")
    return values[name]


def _value_matches(actual: Any, wanted: str) -> bool:
    if actual is None:
        return False
    if wanted.startswith("["):
        low, _, high = wanted.strip("[]").partition(" TO ")
        number = float(actual)
        return (low.strip() == "*" or number >= float(low)) and (high.strip() == "*" or number <= float(high))
    text = wanted.strip('"').lower()
    if isinstance(actual, list):
        return text in actual
    if isinstance(actual, int | float):
        return float(actual) == float(text)
    return actual == text


def _matches(node, sound: FsSound) -> bool:
    kind = node[0]
    if kind == "or":
        return any(_matches(option, sound) for option in node[1])
    if kind == "and":
        return all(_matches(part, sound) for part in node[1])
    if kind == "not":
        return not _matches(node[1], sound)
    actual = _field_value(sound, node[1])
    return any(_value_matches(actual, wanted) for wanted in node[2])


def filter_matches(text: str, sound: FsSound) -> bool:
    return _matches(_Parser(text).parse(), sound)


class FreesoundCatalogue(FakeFreesound):
    name = "fake-freesound-catalogue"

    def __init__(self, port: int = 0, api_key: str = API_KEY) -> None:
        super().__init__(port, api_key)
        self.sounds: dict[int, FsSound] = {}  # type: ignore[assignment]  # a duck-typed FsSound of its own
        self._next_id = 200001
        # Preview bodies that differ from the default MP3: bytes (e.g. garbage, silence), or None
        # for a preview that answers 404 while the sound still exists.
        self.previews: dict[int, bytes | None] = {}
        # Originals that differ from the default WAV (bytes), or None for a sound without one.
        self.originals: dict[int, bytes | None] = {}

    def reset(self) -> None:
        super().reset()
        self.sounds.clear()
        self.previews.clear()
        self.originals.clear()

    def set_original(self, sound_id: int, body: bytes | None) -> None:
        self.originals[sound_id] = body

    def original_audio(self, sound_id: int) -> bytes | None:
        if sound_id in self.originals:
            return self.originals[sound_id]
        return super().original_audio(sound_id)

    def set_preview(self, sound_id: int, body: bytes | None) -> None:
        self.previews[sound_id] = body

    def add_sound(self, name: str, **kwargs: Any) -> FsSound:
        kwargs.setdefault("username", f"author{self._next_id % 97}")
        kwargs["tags"] = tuple(kwargs.get("tags", ()))
        sound = FsSound(id=kwargs.pop("id", self._next_id), name=name, **kwargs)
        self._next_id = max(self._next_id, sound.id) + 1
        self.sounds[sound.id] = sound
        return sound

    def remove_sound(self, sound_id: int) -> None:
        self.sounds.pop(sound_id, None)

    def throttle(self, *, daily: bool = False, times: int = 1, path: str = "/apiv2/") -> None:
        limit = "2000/day" if daily else "60/minute"
        body = {"detail": f"Request was throttled because of exceeding a request limit rate ({limit})"}
        self.answer_429(None, body=body, path=path, times=times)

    def api_calls(self) -> list[Request]:
        return self.calls("/apiv2/")

    def route(self, request: Request) -> Response | None:
        if match := re.fullmatch(r"/previews/\d+/(\d+)_\d+-[hl]q\.(mp3|ogg)", request.path):
            sound_id = int(match[1])
            if sound_id not in self.sounds:
                return None
            if sound_id in self.previews:  # a test's own body, or None for a missing preview
                body = self.previews[sound_id]
                return None if body is None else Response(200, body, {"Content-Type": "audio/mpeg"})
            return Response(200, self.preview_audio(sound_id), {"Content-Type": "audio/mpeg"})
        if request.path.startswith("/displays/"):
            return Response(200, png_square((40, 40, 60), 16), {"Content-Type": "image/png"})
        return super().route(request)

    def preview_audio(self, sound_id: int) -> bytes:
        """The preview's bytes (the demo serves rendered loops here)."""
        return preview_mp3()

    def sound_json(self, sound: FsSound, fields: tuple[str, ...]) -> dict:  # type: ignore[override]  # a duck-typed FsSound of its own
        image = f"{self.url}/displays/{sound.id // 1000}/{sound.id}_{sound.user_id}"
        extra = {
            "tags": list(sound.tags),
            "tonality": sound.tonality,
            "pack": f"https://freesound.org/apiv2/packs/{sound.pack_id}/" if sound.pack_id else None,
            "images": {
                "waveform_m": f"{image}_wave_M.png",
                "waveform_l": f"{image}_wave_L.png",
                "spectral_m": f"{image}_spec_M.jpg",
            },
        }
        base = super().sound_json(sound, tuple(f for f in fields if f not in extra))  # type: ignore[arg-type]  # a duck-typed FsSound of its own
        return {**base, **{k: v for k, v in extra.items() if k in fields}}

    def _search(self, request: Request) -> Response:
        if request.arg("similar_to"):
            return self._similar(request)
        try:
            if request.arg("filter"):
                _Parser(request.arg("filter")).parse()
        except FilterError as exc:
            return json_response({"detail": f"Malformed request. {exc}"}, status=400)
        return super()._search(request)

    def _similar(self, request: Request) -> Response:
        """`similar_to=<id>` as documented: the sounds nearest to that one, nearest first, the
        sound itself left out; here "nearest" is the most shared tags (Freesound uses its own
        similarity space). A sound it does not know answers 404."""
        target = self.sounds.get(request.int_arg("similar_to", 0))
        if target is None:
            return json_response({"detail": "Sound not found"}, status=404)
        filt = request.arg("filter")
        others = [
            s for s in self.sounds.values() if s.id != target.id and (not filt or filter_matches(filt, s))
        ]
        others.sort(key=lambda s: (-len(set(s.tags) & set(target.tags)), s.id))
        page_size = min(max(request.int_arg("page_size", 15), 1), 150)
        fields = tuple(request.arg("fields").split(",")) if request.arg("fields") else DEFAULT_FIELDS
        return json_response(
            {
                "count": len(others),
                "previous": None,
                "next": None,
                "results": [self.sound_json(s, fields) for s in others[:page_size]],
            }
        )

    @staticmethod
    def _matches(sound: FsSound, query: str, filt: str) -> bool:  # type: ignore[override]  # a duck-typed FsSound of its own
        words = set(re.findall(r"[\w&+-]+", sound.name.lower())) | {t.lower() for t in sound.tags}
        if any(term not in words for term in query.lower().split()):
            return False
        return not filt or filter_matches(filt, sound)
