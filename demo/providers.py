"""The demo providers: fakeapis' Deezer and Freesound, filled with the demo catalog and sample library
and serving rendered music, on fixed ports.

`python -m demo.providers [--var-dir DIR]` starts both at once, then renders whatever audio the cache
lacks in the background; a preview asked for before its turn is rendered on the spot.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from pathlib import Path

from fakeapis.deezer import DzAlbum, DzArtist, DzTrack, FakeDeezer
from fakeapis.freesound_catalogue import FreesoundCatalogue

from . import config
from .build import Item, audio_root, build, path_for, render_items
from .content import Sound, Track, catalog, library

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


def _user_id(username: str) -> int:
    """Freesound puts the author's id in preview file names; any stable number will do."""
    return 7000 + sum(username.encode()) % 1000


def start(
    var_dir: Path, ports: config.Ports = config.FIXED_PORTS, size: float = 1.0
) -> tuple[DemoDeezer, DemoFreesound]:
    audio = AudioCache(var_dir, size)
    return DemoDeezer(audio, ports.deezer).start(), DemoFreesound(audio, ports.freesound).start()  # type: ignore[return-value]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--var-dir", type=Path, default=config.default_var_dir())
    args = parser.parse_args(argv)
    deezer, freesound = start(args.var_dir)
    print(f"demo Deezer on {deezer.url}, demo Freesound on {freesound.api_url}", flush=True)
    print(build(args.var_dir).summary(), flush=True)
    threading.Event().wait()  # serve until honcho (or Ctrl-C) stops the process


if __name__ == "__main__":
    main()
