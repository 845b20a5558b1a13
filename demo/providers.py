"""The demo providers: fakeapis' Deezer and Freesound, filled with the demo catalog and sample library
and serving rendered music, on fixed ports.

`python -m demo.providers [--var-dir DIR]` starts both at once, then renders whatever audio the cache
lacks in the background; a preview asked for before its turn is rendered on the spot.
"""

from __future__ import annotations

import argparse
import html
import re
import threading
from collections.abc import Sequence
from pathlib import Path

from fakeapis.deezer import DzAlbum, DzArtist, DzTrack, FakeDeezer
from fakeapis.freesound_catalogue import LICENCES, FreesoundCatalogue, FsSound
from fakeapis.server import Request, Response

from . import config
from .build import Item, audio_root, build, build_estimate, path_for, render_items
from .content import Sound, Track, catalog, library
from .images import waveform_png

LABEL = "Seven/Four Demo Records"


class AudioCache:
    """The rendered files, rendering any that are missing when first asked for."""

    def __init__(self, var_dir: Path, size: float = 1.0) -> None:
        self.var_dir = Path(var_dir)
        self.size = size
        self.root = audio_root(self.var_dir, size)
        self._lock = threading.Lock()

    def bytes_for(self, item: Item) -> bytes:
        path = path_for(self.root, item)
        if not path.is_file():
            with self._lock:  # one on-demand render at a time: the background build has the cores
                if not path.is_file():
                    render_items(self.root, [item])
        return path.read_bytes()


class DemoDeezer(FakeDeezer):
    name = "demo-deezer"
    record_requests = False

    def __init__(self, audio: AudioCache, port: int = config.DEEZER_PORT) -> None:
        super().__init__(port)
        self.audio = audio
        demo = catalog(audio.size)
        self.artists = {a.id: DzArtist(a.id, a.name) for a in demo.artists}
        self.albums = {a.id: DzAlbum(a.id, a.title, a.artist_id, a.release_date) for a in demo.albums}
        self.tracks = {
            t.id: DzTrack(t.id, t.title, t.artist_id, t.album_id, t.isrc, t.duration) for t in demo.tracks
        }
        for track in demo.tracks:
            self.albums[track.album_id].track_ids.append(track.id)
        self.demo_tracks: dict[int, Track] = {t.id: t for t in demo.tracks}
        self.genres = {a.id: a.genre for a in demo.albums}

    def album_json(self, album: DzAlbum, *, full: bool = False) -> dict:
        data = super().album_json(album, full=full)
        if full:
            genre = {"id": 0, "name": self.genres[album.id], "picture": "", "type": "genre"}
            data |= {"label": LABEL, "genres": {"data": [genre]}}
        return data

    def track_json(self, track: DzTrack, *, full: bool = True) -> dict:
        data = super().track_json(track, full=full)
        if full:
            data["bpm"] = self.demo_tracks[track.id].style.tempo
        return data

    def preview_audio(self, track_id: int) -> bytes:
        return self.audio.bytes_for(self.demo_tracks[track_id])


class DemoFreesound(FreesoundCatalogue):
    name = "demo-freesound"
    record_requests = False

    def __init__(self, audio: AudioCache, port: int = config.FREESOUND_PORT) -> None:
        super().__init__(port, api_key=config.FREESOUND_KEY)
        self.audio = audio
        self.demo_sounds: dict[int, Sound] = {}
        self._waveforms: dict[int, bytes] = {}
        for sound in library(audio.size):
            self.add_sound(
                sound.name,
                id=sound.id,
                username=sound.username,
                licence=sound.licence,
                duration=sound.duration,
                tags=sound.tags,
                bpm=sound.bpm,
                tonality=sound.tonality,
                pack_id=sound.pack_id,
                user_id=_user_id(sound.username),
            )
            self.demo_sounds[sound.id] = sound

    def reset(self) -> None:
        """The demo library stays: only faults and the request log are cleared."""
        with self._lock:
            self.faults.clear()
            self.requests.clear()

    def preview_audio(self, sound_id: int) -> bytes:
        return self.audio.bytes_for(self.demo_sounds[sound_id])

    def sound_json(self, sound: FsSound, fields: tuple[str, ...]) -> dict:  # type: ignore[override]  # the catalogue's own FsSound, as in its sound_json
        data = super().sound_json(sound, fields)
        if "url" in data:  # the sound's page: here, not a freesound.org page that does not exist
            data["url"] = f"{self.url}/people/{sound.username}/sounds/{sound.id}/"
        return data

    def route(self, request: Request) -> Response | None:
        if match := re.fullmatch(r"/displays/\d+/(\d+)_\d+_(?:wave|spec)_[ML]\.(?:png|jpg)", request.path):
            sound_id = int(match[1])
            if sound_id not in self.demo_sounds:
                return None
            if sound_id not in self._waveforms:
                self._waveforms[sound_id] = waveform_png(self.preview_audio(sound_id))
            return Response(200, self._waveforms[sound_id], {"Content-Type": "image/png"})
        if match := re.fullmatch(r"/people/[^/]+/sounds/(\d+)/", request.path):
            sound = self.demo_sounds.get(int(match[1]))
            return _sound_page(sound) if sound else None
        return super().route(request)


def _sound_page(sound: Sound) -> Response:
    """What the "On Freesound" link opens in the demo: the sound's description, honestly labelled."""
    facts = [
        ("Author", sound.username),
        ("Licence", LICENCES[sound.licence]),
        ("Length", f"{sound.duration:.1f} s"),
        ("Tempo", f"{sound.bpm} BPM" if sound.bpm else "-"),
        ("Key", sound.tonality or "-"),
        ("Tags", ", ".join(sound.tags)),
    ]
    rows = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in facts)
    body = (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(sound.name)}</title>"
        f"<h1>{html.escape(sound.name)}</h1><p>A Seven/Four demo sound: composed in code and rendered "
        f"with FluidSynth for `make demo`. The author is invented; Freesound has no such page.</p>"
        f"<dl>{rows}</dl></html>"
    )
    return Response(200, body.encode(), {"Content-Type": "text/html; charset=utf-8"})


def _user_id(username: str) -> int:
    """Freesound puts the author's id in preview file names; any stable number will do."""
    return 7000 + sum(username.encode()) % 1000


def start(
    var_dir: Path, ports: config.Ports = config.FIXED_PORTS, size: float = 1.0
) -> tuple[DemoDeezer, DemoFreesound]:
    audio = AudioCache(var_dir, size)
    return DemoDeezer(audio, ports.deezer).start(), DemoFreesound(audio, ports.freesound).start()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--var-dir", type=Path, default=config.default_var_dir())
    args = parser.parse_args(argv)
    deezer, freesound = start(args.var_dir)
    print(f"demo Deezer on {deezer.url}, demo Freesound on {freesound.api_url}", flush=True)
    try:
        if estimate := build_estimate(args.var_dir):
            print(estimate, flush=True)
        print(build(args.var_dir).summary(), flush=True)
        threading.Event().wait()  # serve until honcho (or Ctrl-C) stops the process
    except KeyboardInterrupt:
        return
    except Exception as exc:  # noqa: BLE001 (keep serving: a failed batch must not stop the whole demo)
        print(f"demo audio: the background render failed ({exc}); previews render when asked", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
