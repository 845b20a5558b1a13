"""The library's and the pack page's rows (samples.library): one line per sound, its name cut so that
two sounds never read the same, its fit against the song it plays with."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from predictions.models import Prediction

from .library import Reference, reference_for
from .models import Pack, Sound
from .recommend import Fit, sample_fit

# --- Names on rows ------------------------------------------------------------------------------------

ROW_NAME_MAX = 40


def row_name(name: str, limit: int = ROW_NAME_MAX) -> str:
    """A name short enough for a row that keeps its distinguishing tail: "Tech House Bassline 126
    BPM Eb minor 4" → "Tech House Bassline…BPM Eb minor 4" (the end is where uploaders number a
    series, so cutting it would make rows read the same)."""
    if len(name) <= limit:
        return name
    head = limit * 11 // 20
    tail = limit - head - 1
    return f"{name[:head].rstrip()}…{name[-tail:].lstrip()}"


# --- Rows ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SoundRow:
    """One line of the library or a pack page: the sound, how it fits its song (None without a
    song), the song it plays with, and whether it is in the pack shown."""

    sound: Sound
    fit: Fit | None
    song: Prediction | None = None
    in_pack: bool = False
    grid_json: str = ""  # the song's beat grid, for "Play with the song"

    @property
    def name(self) -> str:
        return row_name(self.sound.name)


def sound_rows(
    sounds: Iterable[Sound], *, song: Prediction | None, in_pack: Iterable[int] = ()
) -> list[SoundRow]:
    reference = reference_for(song)
    members = set(in_pack)
    grid = song_grid_json(song) if song else ""
    return [
        SoundRow(sound, _fit(sound, reference) if song else None, song, sound.pk in members, grid)
        for sound in sounds
    ]


def song_grid_json(song: Prediction) -> str:
    """The song's beat grid as the sample browser reads it (data-song-grid)."""
    from .conform.conforming import song_grid

    return json.dumps(song_grid(song).as_json())


def pack_rows(*, pack: Pack, song: Prediction | None = None) -> list[SoundRow]:
    """The pack's sounds, each with the song it plays with: `song` when the user picked one, else
    the song it was saved from (PackItem.song), else none."""
    items = pack.items.select_related("sound", "song").order_by("added_at", "id")
    rows, grids = [], {}
    for item in items:
        plays_with = song or item.song
        fit = _fit(item.sound, reference_for(plays_with)) if plays_with else None
        if plays_with is not None and plays_with.pk not in grids:
            grids[plays_with.pk] = song_grid_json(plays_with)
        grid = grids[plays_with.pk] if plays_with is not None else ""
        rows.append(SoundRow(item.sound, fit, plays_with, in_pack=True, grid_json=grid))
    return rows


def _fit(sound: Sound, reference: Reference) -> Fit:
    return sample_fit(
        song_bpm=reference.tempo,
        song_key=reference.key,
        loop_bpm=sound.bpm,
        loop_key=sound.key,
        tolerance=reference.tolerance,
    )


def pack_song(*, pack: Pack) -> Prediction | None:
    """The song a pack's library ranks against: the one its latest sound was saved from."""
    item = pack.items.filter(song__isnull=False).select_related("song").order_by("-added_at", "-id").first()
    return item.song if item is not None else None
