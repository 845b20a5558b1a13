"""What the demo providers serve: a catalog (artists, albums, tracks with 30-second previews) and a
sample library (loops and one-shots with BPM, key, tags, licence and author).

Only descriptions live here, no audio: every entry says how demo.music composes it, and its length,
tempo and key are known before anything is rendered. The same seed gives the same library.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from corpus.compose import NOTE_NAMES, Mode, Style, key_name

from .music import Clip, loop_clip, loop_seconds, one_shot_clip, track_clip

PREVIEW_SECONDS = 30.0

# --- The catalog --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Artist:
    id: int
    name: str


@dataclass(frozen=True)
class Album:
    id: int
    title: str
    artist_id: int
    genre: str  # Deezer's genre name for the album, e.g. "Jazz"
    release_date: str


@dataclass(frozen=True)
class Track:
    id: int
    title: str
    artist_id: int
    album_id: int
    isrc: str
    genre: str  # what the piece was composed as ("dance", "jazz"...), for the README and tests
    style: Style
    seed: int
    duration: int  # the "full song" length Deezer would list, in seconds

    @property
    def key(self) -> str:
        return key_name(self.style.tonic, self.style.mode)

    def clip(self) -> Clip:
        return track_clip(self.style, self.seed)


# Per genre: how its tracks are composed (corpus.compose styles without tempo and key).
TRACK_STYLES: dict[str, dict] = {
    "classical": dict(drums="none", chords="strings", bass="acoustic_bass", melody="flute", rubato=0.04),
    "dance": dict(drums="four_on_floor", chords="warm_pad", bass="synth_bass", melody="square_lead"),
    "electronica": dict(drums="halftime", chords="electric_piano", bass="synth_bass", melody="vibraphone"),
    "pop": dict(drums="rock", chords="piano", bass="finger_bass", melody="clean_guitar"),
    "rnb": dict(drums="halftime", swing=True, chords="electric_piano", bass="finger_bass", melody="flute"),
    "rock": dict(drums="rock", chords="overdriven_guitar", bass="finger_bass", melody="overdriven_guitar"),
    "shoegaze": dict(drums="ballad", chords="warm_pad", bass="finger_bass", melody="clean_guitar"),
    "jazz": dict(drums="ballad", swing=True, chords="piano", bass="acoustic_bass", melody="tenor_sax"),
    "country": dict(drums="rock", chords="steel_guitar", bass="acoustic_bass", melody="steel_guitar"),
    "reggae": dict(drums="halftime", chords="organ", bass="finger_bass", melody="trumpet"),
    "blues": dict(drums="rock", swing=True, chords="organ", bass="finger_bass", melody="clean_guitar"),
}
TEMPI = {
    "classical": (72, 96),
    "dance": (122, 128),
    "electronica": (84, 100),
    "pop": (100, 118),
    "rnb": (70, 84),
    "rock": (120, 140),
    "shoegaze": (72, 90),
    "jazz": (110, 140),
    "country": (100, 116),
    "reggae": (72, 80),
    "blues": (90, 110),
}
MODES: dict[str, tuple[Mode, ...]] = {
    "classical": ("major", "minor"),
    "dance": ("minor",),
    "electronica": ("minor", "dorian"),
    "pop": ("major",),
    "rnb": ("minor", "dorian"),
    "rock": ("minor", "minor_pentatonic", "major"),
    "shoegaze": ("major", "minor"),
    "jazz": ("dorian", "major"),
    "country": ("major", "mixolydian"),
    "reggae": ("minor", "major"),
    "blues": ("blues",),
}
DEEZER_GENRES = {
    "classical": "Classical",
    "dance": "Dance",
    "electronica": "Electro",
    "pop": "Pop",
    "rnb": "R&B",
    "rock": "Rock",
    "shoegaze": "Alternative",
    "jazz": "Jazz",
    "country": "Country",
    "reggae": "Reggae",
    "blues": "Blues",
}

# (artist, [(album, genre, year, [track titles])]). Invented names for invented music.
CATALOG = (
    (
        "Aurora Mains",
        [
            ("Night Transit", "dance", 2024, ["Platform Lights", "Last Train Home", "Neon Underpass"]),
            ("Soft Circuits", "electronica", 2026, ["Quiet Machines", "Low Battery", "Sleep Mode"]),
        ],
    ),
    (
        "The Velvet Static",
        [
            ("Haze Meridian", "shoegaze", 2023, ["Slow Bloom", "Glass Horizon", "Feedback Lullaby"]),
            ("Loud Weather", "rock", 2025, ["Thunder Avenue", "Broken Compass", "Hold the Line"]),
        ],
    ),
    (
        "Clara Weiss Ensemble",
        [
            (
                "Chamber Sketches",
                "classical",
                2022,
                ["Prelude in Grey", "Arbour Waltz", "Nocturne for Flute"],
            ),
        ],
    ),
    (
        "June & the Satellites",
        [
            ("Bright Side", "pop", 2025, ["Sunday Morning Radio", "Paper Planes", "Call Me Later"]),
            ("Late Hours", "rnb", 2026, ["Velvet Hours", "Slow Motion", "Candlelight"]),
        ],
    ),
    (
        "Blue Hollow Trio",
        [
            ("After Nine", "jazz", 2021, ["Half Past Blue", "Corner Table", "Walking Home"]),
            ("Crossroads Sessions", "blues", 2024, ["Muddy Water Shuffle", "Twelve Bar Tuesday"]),
        ],
    ),
    (
        "Dusty Creek Band",
        [
            ("Gravel Roads", "country", 2023, ["County Line", "Porch Light", "Long Way to Tulsa"]),
        ],
    ),
    (
        "Island Current",
        [
            ("Sunday Riddims", "reggae", 2025, ["Easy Tide", "Harbour Dub", "One Love Street"]),
        ],
    ),
)


@dataclass(frozen=True)
class Catalog:
    artists: tuple[Artist, ...]
    albums: tuple[Album, ...]
    tracks: tuple[Track, ...]


def _rng(*parts: object) -> np.random.Generator:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def _track_style(genre: str, rng: np.random.Generator, seconds: float) -> Style:
    low, high = TEMPI[genre]
    modes = MODES[genre]
    return Style(
        name=genre,
        tempo=float(rng.integers(low, high + 1)),
        tonic=int(rng.integers(12)),
        mode=modes[int(rng.integers(len(modes)))],
        seconds=seconds,
        **TRACK_STYLES[genre],
    )


@cache
def catalog(size: float = 1.0) -> Catalog:
    """The demo catalog; `size` below 1 keeps fewer tracks per album (at least one), for tests."""
    artists, albums, tracks = [], [], []
    for a, (artist_name, discography) in enumerate(CATALOG, start=1):
        artist = Artist(90000 + a, artist_name)
        artists.append(artist)
        for b, (title, genre, year, titles) in enumerate(discography, start=1):
            album = Album(
                800000 + a * 10 + b, title, artist.id, DEEZER_GENRES[genre], f"{year}-0{b + 2}-1{a}"
            )
            albums.append(album)
            for t, track_title in enumerate(titles[: max(1, round(len(titles) * size))], start=1):
                rng = _rng("track", artist_name, track_title)
                ident = 7000000 + a * 100 + b * 10 + t
                tracks.append(
                    Track(
                        id=ident,
                        title=track_title,
                        artist_id=artist.id,
                        album_id=album.id,
                        isrc=f"XXSF7{year % 100:02d}{ident % 100000:05d}",
                        genre=genre,
                        style=_track_style(genre, rng, PREVIEW_SECONDS),
                        seed=int(rng.integers(1 << 31)),
                        duration=int(rng.integers(150, 320)),
                    )
                )
    return Catalog(tuple(artists), tuple(albums), tuple(tracks))


# --- The sample library ---------------------------------------------------------------------------

AUTHORS = (
    "grainfield",
    "lumen_loops",
    "kettle_audio",
    "marrow.beats",
    "softcollapse",
    "tapehiss",
    "oakroom_strings",
    "northpier",
    "dustmote",
    "velvetfader",
    "cobalt_sine",
    "halfstep_hana",
    "reedsection",
    "moss_and_wire",
)
# One in six is non-commercial, like a slice of Freesound; most are CC0 or attribution.
LICENCE_CYCLE = ("cc0", "by4", "cc0", "by3", "by4", "bync")


@dataclass(frozen=True)
class Family:
    """A kind of sound (e.g. "House Drum Loop") of which the library has `count` variants."""

    label: str
    genre: str  # the model genre it was made for (its tag)
    tags: tuple[str, ...]
    count: int = 4
    # Loops: a corpus.compose style, the parts kept, GM programs replacing the parts' own.
    style: dict = field(default_factory=dict)
    parts: tuple[str, ...] = ()
    programs: dict[str, int] = field(default_factory=dict)
    tempo: tuple[int, int] = (90, 120)
    modes: tuple[Mode, ...] = ("major", "minor")
    bars: tuple[int, ...] = (2, 4)
    # One-shots: a GM program (or a drum key) and the chord shape above a random root.
    program: int | None = None
    shape: tuple[int, ...] = (0,)
    drum: bool = False
    seconds: float = 2.0

    @property
    def one_shot(self) -> bool:
        return self.program is not None or self.drum


DRUMS = ("drums",)
FULL = ("chords", "bass", "melody", "drums")


def _loop(
    label: str, genre: str, tags: tuple[str, ...], style: dict, parts: tuple[str, ...], **kw: Any
) -> Family:
    return Family(label, genre, tags, style=style, parts=parts, **kw)


def _shot(label: str, genre: str, tags: tuple[str, ...], program: int, **kw: Any) -> Family:
    return Family(label, genre, tags, program=program, **kw)


NO_DRUMS = dict(drums="none")
HOUSE = dict(drums="four_on_floor", chords="piano", bass="synth_bass", melody="square_lead")
HALFTIME = dict(drums="halftime", chords="electric_piano", bass="finger_bass", melody="vibraphone")
SWUNG = dict(HALFTIME, swing=True)
ROCK = dict(drums="rock", chords="overdriven_guitar", bass="finger_bass", melody="overdriven_guitar")
SLOW = dict(drums="ballad", chords="warm_pad", bass="finger_bass", melody="clean_guitar")
PAD = dict(drums="none", chords="warm_pad", bass="finger_bass", melody="flute")

# Every phrase of samples' seeded genre searches (migration 0002) finds at least five of these that
# every user may use (not non-commercial), and loops for the genres that search loops.
FAMILIES: tuple[Family, ...] = (
    # classical: violin, piano, orchestra, concert band, woodwinds, strings ("any": loops and one-shots)
    _loop(
        "Violin Phrase",
        "classical",
        ("violin", "strings", "melody"),
        {**NO_DRUMS, "melody": "flute"},
        ("melody",),
        programs={"melody": 40},
        tempo=(66, 96),
        bars=(4,),
    ),
    _shot("Violin Long Note", "classical", ("violin", "strings", "note", "bowed"), 40, seconds=2.5),
    _loop(
        "Piano Phrase",
        "classical",
        ("piano", "keys", "melody"),
        {**NO_DRUMS, "melody": "piano"},
        ("chords", "melody"),
        programs={"chords": 0},
        tempo=(70, 100),
        bars=(4,),
    ),
    _shot("Grand Piano Chord", "classical", ("piano", "chord", "keys"), 0, shape=(0, 4, 7, 12), seconds=2.5),
    _loop(
        "Orchestra Swell",
        "classical",
        ("orchestra", "orchestral", "strings", "brass"),
        {**NO_DRUMS, "chords": "strings", "bass": "acoustic_bass", "melody": "trumpet"},
        ("chords", "bass", "melody"),
        programs={"bass": 43, "melody": 60},
        tempo=(70, 96),
        bars=(4,),
    ),
    _shot(
        "Orchestra Hit", "classical", ("orchestra", "hit", "orchestral"), 55, shape=(0, 7, 12), seconds=1.5
    ),
    _loop(
        "Concert Band March",
        "classical",
        ("concert", "band", "brass", "woodwinds", "march"),
        {"drums": "rock", "chords": "trumpet", "bass": "acoustic_bass", "melody": "flute"},
        FULL,
        programs={"chords": 61, "bass": 58, "melody": 71},
        tempo=(104, 120),
        bars=(4,),
        modes=("major",),
        count=7,
    ),
    _loop(
        "Woodwind Duet",
        "classical",
        ("woodwinds", "flute", "clarinet"),
        {**NO_DRUMS, "chords": "strings", "melody": "flute"},
        ("chords", "melody"),
        programs={"chords": 71, "melody": 73},
        tempo=(72, 100),
        bars=(4,),
    ),
    _shot("Oboe Note", "classical", ("woodwinds", "oboe", "note"), 68, seconds=2.0),
    _shot("Clarinet Note", "classical", ("woodwinds", "clarinet", "note"), 71, seconds=2.0, count=2),
    _loop(
        "String Quartet",
        "classical",
        ("strings", "quartet", "cello"),
        {**NO_DRUMS, "chords": "strings", "bass": "acoustic_bass"},
        ("chords", "bass"),
        programs={"bass": 42},
        tempo=(66, 92),
        bars=(4,),
    ),
    _loop(
        "Pizzicato Strings",
        "classical",
        ("strings", "pizzicato"),
        {**NO_DRUMS, "chords": "piano"},
        ("chords",),
        programs={"chords": 45},
        tempo=(90, 120),
    ),
    # dance: trance loop, house loop, techno loop, tech house loop, dance loop, dubstep loop
    _loop(
        "Trance Lead",
        "dance",
        ("trance", "lead", "synth"),
        {**HOUSE, "chords": "warm_pad"},
        ("chords", "bass", "melody", "drums"),
        programs={"chords": 90, "melody": 81},
        tempo=(134, 140),
        modes=("minor",),
    ),
    _loop(
        "Trance Pad",
        "dance",
        ("trance", "pad", "synth"),
        {**HOUSE, "chords": "warm_pad"},
        ("chords",),
        programs={"chords": 91},
        tempo=(134, 140),
        modes=("minor",),
        count=3,
    ),
    _loop(
        "House Groove",
        "dance",
        ("house", "groove", "piano"),
        HOUSE,
        ("chords", "bass", "drums"),
        tempo=(120, 126),
    ),
    _loop("House Drum Loop", "dance", ("house", "drums", "beat"), HOUSE, DRUMS, tempo=(120, 126)),
    _loop(
        "Techno Pulse",
        "dance",
        ("techno", "synth", "bass"),
        {**HOUSE, "melody": "square_lead"},
        ("bass", "melody", "drums"),
        programs={"bass": 39, "melody": 80},
        tempo=(128, 134),
        modes=("minor",),
    ),
    _loop("Techno Drum Loop", "dance", ("techno", "drums", "beat"), HOUSE, DRUMS, tempo=(128, 134)),
    _loop(
        "Tech House Bassline",
        "dance",
        ("tech", "house", "bassline"),
        HOUSE,
        ("bass", "drums"),
        programs={"bass": 38},
        tempo=(124, 127),
        modes=("minor",),
        count=6,
    ),
    _loop(
        "Dubstep Wobble",
        "dance",
        ("dubstep", "wobble", "bass"),
        {"drums": "trap", "chords": "warm_pad", "bass": "synth_bass", "melody": "square_lead"},
        ("bass", "drums"),
        programs={"bass": 39},
        tempo=(140, 140),
        modes=("minor",),
    ),
    _loop(
        "Dubstep Drum Loop",
        "dance",
        ("dubstep", "drums", "halftime"),
        {**HOUSE, "drums": "halftime"},
        DRUMS,
        tempo=(140, 140),
        count=3,
    ),
    # electronica: lofi, chillhop, synthwave, electronic
    _loop(
        "Lofi Keys",
        "electronica",
        ("lofi", "lo-fi", "keys", "electronic", "chill"),
        SWUNG,
        ("chords", "bass"),
        tempo=(70, 86),
        modes=("minor", "dorian"),
    ),
    _loop(
        "Lofi Beat",
        "electronica",
        ("lofi", "beat", "drums", "electronic"),
        SWUNG,
        ("chords", "drums"),
        tempo=(70, 86),
        modes=("dorian",),
    ),
    _loop(
        "Chillhop Groove",
        "electronica",
        ("chillhop", "chill", "jazzy", "electronic"),
        SWUNG,
        FULL,
        tempo=(84, 96),
        modes=("dorian", "minor"),
    ),
    _loop(
        "Chillhop Drum Loop",
        "electronica",
        ("chillhop", "drums", "electronic"),
        SWUNG,
        DRUMS,
        tempo=(84, 96),
        count=3,
    ),
    _loop(
        "Synthwave Drive",
        "electronica",
        ("synthwave", "retro", "80s", "electronic", "synth"),
        {"drums": "rock", "chords": "warm_pad", "bass": "synth_bass", "melody": "square_lead"},
        FULL,
        programs={"chords": 90, "melody": 81},
        tempo=(96, 110),
        modes=("minor",),
    ),
    _loop(
        "Synthwave Arp",
        "electronica",
        ("synthwave", "arp", "electronic"),
        {"drums": "rock", "chords": "warm_pad", "bass": "synth_bass", "melody": "square_lead"},
        ("bass", "melody"),
        programs={"melody": 81},
        tempo=(96, 110),
        modes=("minor",),
    ),
    _loop(
        "Electronic Pulse",
        "electronica",
        ("electronic", "electronica", "synth"),
        {"drums": "dnb", "chords": "warm_pad", "bass": "synth_bass", "melody": "vibraphone"},
        FULL,
        programs={"chords": 88, "melody": 98},
        tempo=(86, 100),
        count=3,
    ),
    # pop: pop loop, pop vocals
    _loop(
        "Pop Piano",
        "pop",
        ("pop", "piano", "chords"),
        {"drums": "rock", "chords": "piano"},
        ("chords", "bass", "drums"),
        tempo=(100, 120),
        modes=("major",),
    ),
    _loop(
        "Pop Guitar Strum",
        "pop",
        ("pop", "guitar", "acoustic"),
        {"drums": "rock", "chords": "steel_guitar"},
        ("chords", "drums"),
        tempo=(96, 116),
        modes=("major",),
    ),
    _loop(
        "Pop Vocals Oohs",
        "pop",
        ("pop", "vocals", "vocal", "voice", "choir"),
        {"drums": "rock", "chords": "warm_pad", "melody": "flute"},
        ("chords", "melody"),
        programs={"chords": 52, "melody": 53},
        tempo=(96, 120),
        modes=("major",),
        count=6,
    ),
    _loop(
        "Pop Vocal Chops",
        "pop",
        ("pop", "vocals", "chops", "vocal"),
        {"drums": "four_on_floor", "chords": "piano", "melody": "flute"},
        ("melody", "drums"),
        programs={"melody": 54},
        tempo=(100, 122),
        modes=("major", "minor"),
    ),
    # rnb: hip-hop loop, r&b loop
    _loop(
        "Hip-Hop Beat",
        "rnb",
        ("hip-hop", "hiphop", "beat", "drums"),
        HALFTIME,
        ("bass", "drums"),
        tempo=(84, 96),
        modes=("minor",),
    ),
    _loop(
        "Hip-Hop Keys",
        "rnb",
        ("hip-hop", "keys", "rhodes"),
        HALFTIME,
        ("chords", "bass", "drums"),
        tempo=(84, 96),
        modes=("minor", "dorian"),
    ),
    _loop(
        "Boom Bap Piano",
        "rnb",
        ("hip-hop", "boom-bap", "piano"),
        {**SWUNG, "chords": "piano"},
        ("chords", "drums"),
        tempo=(86, 94),
        modes=("minor",),
        count=3,
    ),
    _loop(
        "R&B Groove",
        "rnb",
        ("r&b", "rnb", "soul", "groove"),
        SWUNG,
        FULL,
        programs={"melody": 73},
        tempo=(68, 84),
        modes=("minor", "dorian"),
    ),
    _loop(
        "R&B Keys",
        "rnb",
        ("r&b", "rnb", "keys", "rhodes"),
        SWUNG,
        ("chords", "bass"),
        tempo=(68, 84),
        modes=("minor", "dorian"),
    ),
    # rock: rock loop, drum loop
    _loop(
        "Rock Guitar Riff",
        "rock",
        ("rock", "guitar", "riff"),
        ROCK,
        ("chords", "bass", "drums"),
        tempo=(118, 140),
        modes=("minor", "minor_pentatonic"),
    ),
    _loop(
        "Rock Band",
        "rock",
        ("rock", "band", "distorted"),
        ROCK,
        FULL,
        programs={"chords": 30},
        tempo=(118, 140),
        modes=("minor", "major"),
    ),
    _loop("Rock Drum Loop", "rock", ("rock", "drum", "drums", "beat"), ROCK, DRUMS, tempo=(110, 140)),
    _loop(
        "Live Drum Loop",
        "rock",
        ("drum", "drums", "live", "acoustic"),
        {**ROCK, "drums": "halftime"},
        DRUMS,
        tempo=(80, 110),
    ),
    _loop(
        "Shuffle Drum Loop",
        "rock",
        ("drum", "drums", "shuffle"),
        {**ROCK, "swing": True},
        DRUMS,
        tempo=(90, 120),
        count=3,
    ),
    # shoegaze: guitar loop, drone loop, ambience loop
    _loop(
        "Dreamy Guitar",
        "shoegaze",
        ("guitar", "dreamy", "shoegaze", "clean"),
        SLOW,
        ("chords", "melody"),
        programs={"chords": 27},
        tempo=(70, 92),
    ),
    _loop(
        "Fuzz Guitar Wall",
        "shoegaze",
        ("guitar", "fuzz", "shoegaze", "wall"),
        {**SLOW, "chords": "strings"},
        ("chords", "bass", "drums"),
        programs={"chords": 30},
        tempo=(72, 96),
    ),
    _loop(
        "Drone",
        "shoegaze",
        ("drone", "ambient", "pad"),
        PAD,
        ("chords",),
        programs={"chords": 92},
        tempo=(60, 80),
        bars=(4,),
        count=5,
    ),
    _loop(
        "Deep Drone",
        "shoegaze",
        ("drone", "dark", "bass"),
        PAD,
        ("chords", "bass"),
        programs={"chords": 94, "bass": 43},
        tempo=(60, 72),
        bars=(4,),
        count=3,
    ),
    _loop(
        "Ambience",
        "shoegaze",
        ("ambience", "ambient", "atmosphere", "texture"),
        PAD,
        ("chords", "melody"),
        programs={"chords": 99, "melody": 98},
        tempo=(60, 84),
        bars=(4,),
        count=5,
    ),
    _loop(
        "Rain Ambience",
        "shoegaze",
        ("ambience", "rain", "texture"),
        PAD,
        ("chords",),
        programs={"chords": 96},
        tempo=(60, 80),
        bars=(4,),
        count=3,
    ),
    # One-shots for everyone's drum racks (not picked by the loop searches, but in the library).
    _shot("Kick", "dance", ("kick", "drum", "one-shot"), 0, drum=True, shape=(36,), seconds=1.0, count=3),
    _shot("Snare", "rock", ("snare", "drum", "one-shot"), 0, drum=True, shape=(38,), seconds=1.0, count=3),
    _shot(
        "Crash Cymbal",
        "rock",
        ("crash", "cymbal", "one-shot"),
        0,
        drum=True,
        shape=(49,),
        seconds=2.5,
        count=2,
    ),
    _shot("Synth Stab", "electronica", ("synth", "stab", "electronic"), 81, shape=(0, 3, 7), seconds=1.2),
    _shot("Rhodes Chord", "rnb", ("rhodes", "chord", "keys"), 4, shape=(0, 3, 7, 10), seconds=2.0, count=3),
    _shot(
        "Guitar Chord",
        "shoegaze",
        ("guitar", "chord", "clean"),
        27,
        shape=(0, 7, 12, 16),
        seconds=2.5,
        count=3,
    ),
)


@dataclass(frozen=True)
class Sound:
    id: int
    name: str
    family: Family
    tags: tuple[str, ...]
    username: str
    licence: str  # a key of fakeapis.freesound_catalogue.LICENCES
    duration: float
    bpm: int | None
    tonality: str | None
    pack_id: int
    style: Style | None  # loops
    seed: int
    root: int  # one-shots: the MIDI note under the chord shape

    @property
    def is_loop(self) -> bool:
        return not self.family.one_shot

    def clip(self) -> Clip:
        family = self.family
        if self.style is not None:
            return loop_clip(
                self.style, self.seed, parts=family.parts, bars=self.bars, programs=family.programs
            )
        pitches = family.shape if family.drum else [self.root + i for i in family.shape]
        return one_shot_clip(
            program=family.program or 0, pitches=pitches, seconds=family.seconds, drum=family.drum
        )

    @property
    def bars(self) -> int:
        assert self.style is not None
        return round(self.duration * self.style.tempo / 60.0 / self.style.meter)


def _variants(family: Family, number: int, first_id: int, count: int) -> Iterator[Sound]:
    for n in range(count):
        rng = _rng("sound", family.label, n)
        ident = first_id + n
        author = AUTHORS[int(rng.integers(len(AUTHORS)))]
        licence = LICENCE_CYCLE[(number + n) % len(LICENCE_CYCLE)]
        kind = "one-shot" if family.one_shot else "loop"
        tags = tuple(dict.fromkeys((*family.tags, family.genre, kind)))
        pack_id = 3000 + number * 10 + AUTHORS.index(author) % 3
        if family.one_shot:
            root = int(rng.integers(48, 60))
            name = family.label if family.drum else f"{family.label} {NOTE_NAMES[root % 12]}"
            yield Sound(ident, f"{name} {n + 1}", family, tags, author, licence, family.seconds,
                        None, None, pack_id, None, int(rng.integers(1 << 31)), root)  # fmt: skip
            continue
        low, high = family.tempo
        mode = family.modes[int(rng.integers(len(family.modes)))]
        style = Style(
            name=family.label,
            tempo=float(rng.integers(low, high + 1)),
            tonic=int(rng.integers(12)),
            mode=mode,
            **family.style,
        )
        bars = family.bars[int(rng.integers(len(family.bars)))]
        key = key_name(style.tonic, mode) if family.parts != DRUMS else None
        bpm = int(style.tempo)
        name = f"{family.label} {bpm} BPM" + (f" {key}" if key else "") + f" ({n + 1})"
        yield Sound(
            ident, name, family, (*tags, f"{bpm}bpm"), author, licence, round(loop_seconds(style, bars), 3),
            bpm, key, pack_id, style, int(rng.integers(1 << 31)), 0,
        )  # fmt: skip


@cache
def library(size: float = 1.0) -> tuple[Sound, ...]:
    """The sample library; `size` scales how many variants each family has (at least one), so tests
    can render a smaller one with the same code."""
    sounds: list[Sound] = []
    for number, family in enumerate(FAMILIES):
        count = max(1, round(family.count * size))
        sounds.extend(_variants(family, number, 600000 + number * 100, count))
    return tuple(sounds)
