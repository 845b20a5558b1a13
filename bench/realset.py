"""The real-recordings development set: restore its audio from public repository snapshots.

    .venv/bin/python bench/realset.py restore [--mirror DIR] [--out var/realset]
    .venv/bin/python bench/realset.py build   [--mirror DIR]      # maintainers: rewrite the manifest

The committed manifest (bench/realset/manifest.tsv) names every clip's source repository, commit, path
and sha256, with its annotations: tempo in BPM, key, the source's genre label and our genre. No audio
is committed. `restore` copies each file out of a local snapshot of its repository (a bare git
directory at MIRROR/<owner>+<name>/repo, as the search tool's `fetch` verb leaves them; default
/work/.mirror or $SEVENFOUR_MIRROR), checks its sha256, converts what is not WAV with ffmpeg and
writes under --out (gitignored):

    audio/<clip>.wav           the recordings (WAV, source rate and channels)
    annotations.tsv            clips with a tempo or a key, in bench/accuracy.py's format
    genre.tsv                  clips with a genre: file, genre, source, source_label, fold
    genre/<slug>/<clip>.wav    hard links for `manage.py evaluate_genre_model --data OUT/genre`
    genre-by-source/<source>/<slug>/...   the same per source, so a research set can't hide another

This script cannot fetch: only an agent's search tool can bring a snapshot onto the machine. When a
snapshot is missing, `restore` restores the rest, names the missing repositories and exits with 2.

`build` regenerates the manifest from the snapshots of the audio repositories (SOURCES) and of the
annotation repositories (ANNOTATIONS): GTZAN clips get the GTZAN-Rhythm tempo and the Kraft/Lerch
key by their id; a clip id found in two repositories is kept once (the first source in SOURCES), and
so is a sha256 seen twice. Git LFS pointers are refused, and so are files a snapshot lists but does not
hold. Other sources label a clip by its folder (FOLDER_LABELLED), by a table in the repository's own code
(FILE_LABELS) or by its song list (GuessSong); LEFT_OUT drops files whose own genre contradicts their
label, and AudioSource.commit reads a repository that removed its audio at an earlier commit.
docs/accuracy.md lists the sources, counts and licences.
"""

from __future__ import annotations

import argparse
import csv
import functools
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "bench" / "realset" / "manifest.tsv"
DEFAULT_OUT = ROOT / "var" / "realset"
DEFAULT_MIRROR = Path(os.environ.get("SEVENFOUR_MIRROR", "/work/.mirror"))
LFS_PREFIX = b"version https://git-lfs"
NO_KEY = "X"
OUTSIDE = "outside"
OUR_GENRES = ("classical", "dance", "electronica", "pop", "rnb", "rock", "shoegaze")

# Source label -> our genre slug, or "outside" (none of our seven). One table per label vocabulary.
GENRE_MAP: dict[str, dict[str, str]] = {
    "gtzan": {
        "classical": "classical",
        "disco": "dance",
        "hiphop": "rnb",
        "metal": "rock",
        "pop": "pop",
        "rock": "rock",
        "blues": OUTSIDE,
        "country": OUTSIDE,
        "jazz": OUTSIDE,
        "reggae": OUTSIDE,
    },
    # palonso/pecmae-samples xai_genre/samples: one clip per style, the style is the file name.
    "xai_genre": {
        "ambient": "electronica",
        "disco": "dance",
        "electro": "dance",
        "house": "dance",
        "techno": "dance",
        "trance": "dance",
        "europop": "pop",
        "funk": "rnb",
        "soul": "rnb",
        "heavy_metal": "rock",
        "indie_rock": "rock",
        "punk": "rock",
        "afrobeat": OUTSIDE,
        "bolero": OUTSIDE,
        "bop": OUTSIDE,
        "bossa_nova": OUTSIDE,
        "contemporary_jazz": OUTSIDE,
        "cumbia": OUTSIDE,
        "doo_wop": OUTSIDE,
        "dub": OUTSIDE,
        "gospel": OUTSIDE,
        "salsa": OUTSIDE,
        "samba": OUTSIDE,
        "swing": OUTSIDE,
    },
    # librosa/data: the label is the album or title the recording's attribution file names.
    "librosa": {"classical sampler": "classical", "string orchestra": "classical", "jazz sampler": OUTSIDE,
                "ragtime": OUTSIDE},
    # Ballroom dances: none is one of our genres.
    "ballroom": {"waltz": OUTSIDE},
    # GiantSteps Key: Beatport's genre labels (annotations/genre). The house family, techno, minimal,
    # trance and hard techno are club music (dance); electronica and chill-out are listening music
    # (electronica). breaks, drum-and-bass, dubstep and dj-tools could be either, or neither, so they
    # stay unmapped (genre "") and those clips serve key only.
    "giantsteps": {
        "house": "dance",
        "deep-house": "dance",
        "electro-house": "dance",
        "progressive-house": "dance",
        "tech-house": "dance",
        "techno": "dance",
        "minimal": "dance",
        "trance": "dance",
        "hardcore hard-techno": "dance",
        "electronica": "electronica",
        "chill-out": "electronica",
    },
    # omarpall/music: five songs its author tested the classifier on, each with a GTZAN-style genre.
    # The Shire theme (Howard Shore's film score, orchestral) is "classical" there and here.
    "omarpall": {"country": OUTSIDE, "reggae": OUTSIDE, "metal": "rock", "classical": "classical"},
    # Niftys/ballroommusicquiz: full songs filed by the dance they suit. A dance maps to "outside" only
    # where the music played for it is itself a genre outside ours: the country dances (two step, triple
    # two, and polka, which this repository fills with country songs), the swing dances (foxtrot,
    # quickstep, jitterbug: big band, swing and jump blues) and the Latin dances. Dances danced to songs
    # of any genre (cha cha, jive, hustle, nightclub, the swings of the coasts, both waltzes, zouk) stay
    # out of the set (DANCEQUIZ_PATTERN).
    "dancequiz": {
        "two step": OUTSIDE, "triple two": OUTSIDE, "polka": OUTSIDE,
        "foxtrot": OUTSIDE, "quickstep": OUTSIDE, "jitterbug": OUTSIDE,
        "tango": OUTSIDE, "rumba": OUTSIDE, "samba": OUTSIDE, "paso doble": OUTSIDE, "bachata": OUTSIDE,
        "merengue": OUTSIDE, "salsa": OUTSIDE, "cumbia": OUTSIDE,
    },
    # Solarleaf/GenreWave data/songs/<genre>/: free-download songs filed under the Free Music Archive's
    # top genres. Electronic (dance or electronica), Experimental and Instrumental say nothing about
    # which of ours a song is, so they stay out (GENREWAVE's pattern).
    "fma_folders": {"Hip-Hop": "rnb", "Pop": "pop", "Rock": "rock", "Folk": OUTSIDE, "International": OUTSIDE},
    # ctrangel/project-x media/sound/songs/<genre>/: a genre-button player's commercial songs. Its disco
    # folder holds a Glenn Frey ballad and its jazz folder an electronic remix, so those two, and funk
    # (Brazilian funk), drum and bass and the joke genre, stay out (PROJECTX's pattern).
    "projectx": {
        "hip-hop": "rnb", "rnb": "rnb", "soul": "rnb", "pop": "pop", "rock": "rock", "metal": "rock",
        "classical": "classical", "reggae": OUTSIDE, "country": OUTSIDE,
    },
    # janseweryn/GuessSong: a guess-the-song game's songs; src/songs.json gives each file's artist, title
    # and categories (a genre, and the genre with a decade).
    "guesssong": {"Pop": "pop", "Rock": "rock", "Rap": "rnb"},
    # a-velesov/guess-melody src/assets/music/<stage>/: a quiz's 60 s excerpts, six per stage. The stage
    # "Top Youtube" (folder youtube) is a chart, not a genre, and stays out (the pattern).
    "songbird": {"classic": "classical", "jazz": OUTSIDE, "pop": "pop", "rap": "rnb", "rock": "rock"},
    # StitchB/MusicalStructureApp app/src/main/assets/music/<genre>/<artist>/<album>/: 10 s clips of
    # commercial albums. Its Pop folder also holds Kyle Dixon's Stranger Things score, which stays out.
    "musicalstructure": {
        "Country": OUTSIDE, "Dance": "dance", "Pop": "pop", "R&B": "rnb", "Rap": "rnb", "Rock": "rock",
    },
    # nanditavelasquez/player-mini music/<genre>/: a Spanish-language player's songs. Its "electronica"
    # (electrónica, electronic dance music) holds club acts only (Avicii, Armin van Buuren, Tiësto, Alok,
    # Gigi D'Agostino), so it maps to dance.
    "playermini": {"electronica": "dance", "reggae": OUTSIDE, "rock": "rock"},
}  # fmt: skip

# Outside songs' source labels -> the outside genre a prototype of them names (bench/outside.py builds
# one prototype per name from real recordings). Sub-styles and dances go to the genre a listener would
# name: dub is reggae; bop, swing and the swing dances are jazz; two-steps and the dance quiz's polkas
# (country songs) are country; the Latin dances and styles are Latin. A label not listed names itself,
# in lower case.
OUTSIDE_NAMES: dict[str, str] = {
    "dub": "reggae",
    "bop": "jazz",
    "swing": "jazz",
    "contemporary_jazz": "jazz",
    "jazz sampler": "jazz",
    "foxtrot": "jazz",
    "jitterbug": "jazz",
    "quickstep": "jazz",
    "two step": "country",
    "triple two": "country",
    "polka": "country",  # the dance quiz's polka folder holds country songs
    "international": "world",
    **{
        dance: "latin"
        for dance in ("bachata", "bolero", "bossa_nova", "cumbia", "merengue", "paso doble", "rumba",
                      "salsa", "samba", "tango")
    },
}  # fmt: skip


def outside_name(source_label: str) -> str:
    """The outside genre an outside song's source label names ("Country" -> "country")."""
    label = source_label.lower()
    return OUTSIDE_NAMES.get(label, label).replace("_", " ")


# Vocabularies whose label is the folder a file sits in (the pattern's "label" group).
FOLDER_LABELLED = {"fma_folders", "projectx", "songbird", "musicalstructure", "playermini"}


@dataclass(frozen=True)
class Clip:
    """One manifest row."""

    clip: str  # unique id, also the restored file's stem
    source: str  # short source name (a folder of genre-by-source/)
    repo: str  # owner/name
    commit: str
    path: str  # inside the repository
    sha256: str  # of the file as committed
    tempo: str  # BPM, or "" when not annotated
    key: str  # mir_eval spelling ("G minor"), or "" when not annotated
    source_label: str  # the source's genre or style label, "" when none
    genre: str  # our slug, "outside", or "" when the clip serves tempo/key only
    fold: str  # cross-validation fold (artist-disjoint where the artist is known)
    annotation: str  # where tempo and key come from


COLUMNS = [f.name for f in fields(Clip)]


def read_manifest(path: Path = MANIFEST) -> list[Clip]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    if rows and list(rows[0]) != COLUMNS:
        raise ValueError(f"{path}: columns {list(rows[0])}, expected {COLUMNS}")
    return [Clip(**row) for row in rows]


def write_manifest(clips: Iterable[Clip], path: Path = MANIFEST) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(COLUMNS)
        for clip in clips:
            writer.writerow([getattr(clip, name) for name in COLUMNS])


# --- snapshots ---------------------------------------------------------------------------------


class SnapshotError(RuntimeError):
    pass


def git_dir(mirror: Path, repo: str) -> Path:
    return mirror / repo.replace("/", "+") / "repo"


def git(gdir: Path, *args: str) -> bytes:
    result = subprocess.run(["git", f"--git-dir={gdir}", *args], capture_output=True, check=False)
    if result.returncode:
        raise SnapshotError(f"git {' '.join(args)} in {gdir}: {result.stderr.decode().strip()}")
    return result.stdout


def head(gdir: Path) -> str:
    return git(gdir, "rev-parse", "HEAD").decode().strip()


def list_files(gdir: Path, commit: str) -> list[str]:
    return git(gdir, "ls-tree", "-r", "--name-only", "-z", commit).decode().split("\0")[:-1]


def blob(gdir: Path, commit: str, path: str) -> bytes:
    """The file at commit; a snapshot whose history lacks the commit is read at HEAD (the sha256 decides)."""
    try:
        return git(gdir, "cat-file", "blob", f"{commit}:{path}")
    except SnapshotError:
        return git(gdir, "cat-file", "blob", f"HEAD:{path}")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def is_lfs_pointer(data: bytes) -> bool:
    return data.startswith(LFS_PREFIX)


# --- restore -----------------------------------------------------------------------------------


@dataclass
class RestoreReport:
    restored: list[Clip]
    missing_repos: list[str]
    failed: list[tuple[Clip, str]]


def restore(clips: Sequence[Clip], mirror: Path, out: Path) -> RestoreReport:
    """Write every clip whose snapshot is here under out/, then the TSVs and the genre folders."""
    audio_dir = out / "audio"
    audio_dir.mkdir(parents=True, exist_ok=True)
    report = RestoreReport([], [], [])
    for clip in clips:
        gdir = git_dir(mirror, clip.repo)
        if not gdir.is_dir():
            if clip.repo not in report.missing_repos:
                report.missing_repos.append(clip.repo)
            continue
        target = audio_dir / f"{clip.clip}.wav"
        try:
            if not target.is_file():  # restored before: the sha256 was checked then
                write_audio(clip, blob(gdir, clip.commit, clip.path), target)
        except (SnapshotError, ValueError) as exc:
            report.failed.append((clip, str(exc)))
            continue
        report.restored.append(clip)
    write_tables(report.restored, out)
    return report


def write_audio(clip: Clip, data: bytes, target: Path) -> None:
    if is_lfs_pointer(data):
        raise ValueError("the snapshot holds a Git LFS pointer, not the audio")
    digest = sha256(data)
    if digest != clip.sha256:
        raise ValueError(f"sha256 {digest} differs from the manifest's {clip.sha256}")
    suffix = Path(clip.path).suffix.lower()
    if suffix == ".wav":
        target.write_bytes(data)
        return
    with tempfile.NamedTemporaryFile(suffix=suffix) as source:
        source.write(data)
        source.flush()
        partial = target.with_suffix(".part.wav")
        result = subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", source.name, "-c:a", "pcm_s16le", str(partial)],
            capture_output=True,
            check=False,
        )
        if result.returncode:
            partial.unlink(missing_ok=True)
            raise ValueError(f"ffmpeg could not convert {clip.path}: {result.stderr.decode().strip()}")
        partial.replace(target)


def write_tables(clips: Sequence[Clip], out: Path) -> None:
    """annotations.tsv (bench/accuracy.py), genre.tsv, and the folders evaluate_genre_model reads."""
    with (out / "annotations.tsv").open("w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["file", "tempo", "key", "genre", "source", "source_label", "fold"])
        for clip in clips:
            if clip.tempo or clip.key:
                label = clip.source_label or clip.genre
                writer.writerow(
                    [f"audio/{clip.clip}.wav", clip.tempo or NO_KEY, clip.key or NO_KEY, label, clip.source,
                     clip.source_label, clip.fold]
                )  # fmt: skip
    with (out / "genre.tsv").open("w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["file", "genre", "source", "source_label", "fold"])
        for clip in clips:
            if clip.genre:
                writer.writerow(
                    [f"audio/{clip.clip}.wav", clip.genre, clip.source, clip.source_label, clip.fold]
                )
    for folder in (out / "genre", out / "genre-by-source"):
        if folder.is_dir():
            for stale in sorted(folder.rglob("*.wav")):
                stale.unlink()
    for clip in clips:
        if clip.genre:
            source = out / "audio" / f"{clip.clip}.wav"
            link(source, out / "genre" / clip.genre / source.name)
            link(source, out / "genre-by-source" / clip.source / clip.genre / source.name)


def link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        target.write_bytes(source.read_bytes())


def missing_message(repos: Sequence[str], mirror: Path) -> str:
    lines = [
        f"{len(repos)} source repositories have no snapshot under {mirror}. This script cannot fetch: ask an",
        "agent with the search tool to run its `fetch` verb on each (it leaves a bare git directory at",
        f"{mirror}/<owner>+<name>/repo), then run restore again:",
    ]
    return "\n".join(lines + [f"    fetch github:{repo}" for repo in repos])


# --- build (maintainers) -----------------------------------------------------------------------


@dataclass(frozen=True)
class AudioSource:
    repo: str
    name: str  # short source name
    pattern: str  # regex over paths in the repository; named groups drive the clip's labels
    vocabulary: str  # GENRE_MAP table
    licence: str
    commit: str = ""  # read at this commit (the audio was removed later), or "" for the snapshot's HEAD


# In order of preference: a clip found twice is taken from the first source. Append new sources at the
# end: the round-robin folds of the clips without an artist follow the order of the rows.
SOURCES: list[AudioSource] = [
    AudioSource(
        "ericodle/xLSTM-genre-classifier", "gtzan",
        r"^tests/test-gtzan/(?P<label>[a-z]+)/(?P=label)\.(?P<num>\d{5})\.wav$", "gtzan",
        "repository MIT; audio: GTZAN excerpts, no licence (research use)",
    ),
    AudioSource(
        "palonso/pecmae-samples", "gtzan",
        r"^gtzan/samples/(?P<label>[a-z]+)\.(?P<num>\d{5})\.wav$", "gtzan",
        "no licence file; audio: GTZAN excerpts, no licence (research use)",
    ),
    AudioSource(
        "RebeccaLab/MGRP", "gtzan",
        r"^tests/test-gtzan/(?P<label>[a-z]+)/(?P=label)\.(?P<num>\d{5})\.wav$", "gtzan",
        "repository licence file; audio: GTZAN excerpts, no licence (research use)",
    ),
    AudioSource(
        "palonso/pecmae-samples", "xai_genre",
        r"^xai_genre/samples/(?P<label>[a-z_]+)\.mp3$", "xai_genre",
        "no licence file; provenance of the excerpts not stated (research demo page)",
    ),
    AudioSource(
        "librosa/data", "librosa",
        r"^audio/(?P<file>Hungarian_Dance_number_5.*|Kevin_MacLeod_-_.*|442789__lena-orsa.*)\.hq\.ogg$",
        "librosa", "per file: public domain (Brahms), CC BY 3.0 (Kevin MacLeod), CC BY-NC 3.0 (ragtime)",
    ),
    AudioSource(
        "mir-dataset-loaders/mirdata", "ballroom",
        r"^tests/resources/mir_datasets/ballroom/B_1\.0/audio/(?P<label>Waltz)/(?P<file>Media-\d+)\.wav$",
        "ballroom", "mirdata BSD-3-Clause; audio: Ballroom dataset excerpt (research use)",
    ),
    AudioSource(
        "muthu1993/InteliEQ", "gtzan",
        r"^(?P<label>classical)/(?P=label)\.(?P<num>\d{5})\.wav$", "gtzan",
        "repository Apache-2.0 (pyAudioAnalysis code); audio: GTZAN excerpts cut to their first 15 s and "
        "resampled to 44.1 kHz stereo, no licence (research use)",
    ),
    AudioSource(
        "charlesvestal/move-anything-keydetect", "giantsteps",
        r"^test/audio/(?P<file>\d+\.LOFI)\.mp3$", "giantsteps",
        "no licence file; audio: GiantSteps Key's 2-minute Beatport previews (research use)",
    ),
    AudioSource(
        "omarpall/music", "omarpall",
        r"^(?P<file>[A-Za-z]+)\.wav$", "omarpall",
        "no licence file; audio: 31 s excerpts of commercial songs (research use)",
    ),
    AudioSource(
        "Niftys/ballroommusicquiz", "dancequiz",
        r"^public/audio/(?P<label>(?:two step|triple two|polka|foxtrot|quickstep|jitterbug|tango|rumba|samba"
        r"|paso doble|bachata|merengue|salsa|cumbia)(?:, [^/]*)?)/(?P<file>[^/]+)\.mp3$", "dancequiz",
        "no licence file; audio: full commercial songs, removed from the repository in e5d6672 (research use)",
        commit="48ad30d",
    ),
    AudioSource(
        "Solarleaf/GenreWave", "genrewave",
        r"^data/songs/(?P<label>Hip-Hop|Pop|Rock|Folk|International)/(?P<file>[^/]+)\.mp3$", "fma_folders",
        "no licence file; audio: songs from free-download sites (Free Music Archive artists), each under its "
        "artist's licence",
    ),
    AudioSource(
        "ctrangel/project-x", "projectx",
        r"^media/sound/songs/(?P<label>hip-hop|rnb|soul|pop|rock|metal|classical|reggae|country)/(?P<file>[^/]+)"
        r"\.(?:mp3|wav)$", "projectx",
        "no licence file; audio: commercial recordings (research use)",
    ),
    AudioSource(
        "janseweryn/GuessSong", "guesssong",
        r"^public/songs/(?P<label>pop|rock|rap)/(?P<file>[^/]+)\.mp3$", "guesssong",
        "no licence file; audio: commercial recordings (research use)",
    ),
    AudioSource(
        "a-velesov/guess-melody", "songbird",
        r"^src/assets/music/(?P<label>classic|jazz|pop|rap|rock)/(?P<file>[^/]+)\.mp3$", "songbird",
        "no licence file; audio: 60 s excerpts of commercial recordings (research use)",
    ),
    AudioSource(
        "StitchB/MusicalStructureApp", "musicalstructure",
        r"^app/src/main/assets/music/(?P<label>Country|Dance|Pop|R&B|Rap|Rock)/(?!Kyle Dixon/)(?P<artist>[^/]+)/"
        r"[^/]+/(?P<file>[^/]+)\.mp3$", "musicalstructure",
        "no licence file; audio: 10 s clips of commercial recordings (research use)",
    ),
    AudioSource(
        "nanditavelasquez/player-mini", "playermini",
        r"^music/(?P<label>electronica|reggae|rock)/(?P<file>[^/]+)\.mp3$", "playermini",
        "no licence file; audio: commercial recordings (research use)",
    ),
]  # fmt: skip

ANNOTATIONS = {
    "gtzan_tempo": "TempoBeatDownbeat/gtzan_tempo_beat",  # GTZAN-Rhythm (Marchand & Peeters), tempo/*.bpm
    "gtzan_key": "alexanderlerch/gtzan_key",  # Kraft/Lerch keys, MIT
    "ballroom": "CPJKU/BallroomAnnotations",  # beats (Krebs et al.); the tempo is their median IBI
    "giantsteps_key": "GiantSteps/giantsteps-key-dataset",  # Knees et al. (ISMIR 2015): key, genre, md5
}

# librosa/data files: (clip id, source label, key named by the title or "")
LIBROSA = {
    "Hungarian_Dance_number_5_-_Allegro_in_F_sharp_minor_(string_orchestra)": (
        "brahms",
        "string orchestra",
        "F# minor",
    ),
    "Kevin_MacLeod_-_P_I_Tchaikovsky_Dance_of_the_Sugar_Plum_Fairy": ("nutcracker", "classical sampler", ""),
    "Kevin_MacLeod_-_Vibe_Ace": ("vibeace", "jazz sampler", ""),
    "442789__lena-orsa__happy-music-pistachio-ice-cream-ragtime": ("pistachio", "ragtime", ""),
}


@dataclass(frozen=True)
class FileLabels:
    """A source whose repository states each file's genre in its own code or notes, not in the path."""

    where: str  # where the repository states the labels
    files: dict[str, str]  # file stem (the pattern's "file" group) -> the source's genre label


# Vocabulary -> the labels of its files. Clip ids are "<source name>.<file stem, lower case>".
FILE_LABELS: dict[str, FileLabels] = {
    "omarpall": FileLabels(
        "neuralnet.py's table of test songs (artist, title, genre)",
        {
            "CountryMan": "country",  # Axel O. & Co., "Country man"
            "YouAreTrouble": "country",  # Axel O. & Co., "You Are Trouble"
            "skalmold": "metal",  # Skálmöld, "Kvaðning"
            "amabadama": "reggae",  # Amabadama, "Hossa Hossa"
            "shire": "classical",  # Howard Shore, the Shire theme (The Lord of the Rings)
        },
    ),
}

# Source name -> files (the pattern's "file" group) left out although their folder maps: the song's own
# genre is arguably another one.
LEFT_OUT: dict[str, set[str]] = {
    "dancequiz": {  # whatever the dance, the song is arguably one of ours
        "Caro Emerald - That Man",  # quickstep; electro-swing, close to pop
        "DJ Snake, Selena Gomez, Ozuna, Cardi B - Taki Taki (feat. Selena Gomez, Ozuna & Cardi B)",  # samba; EDM
        "Kenia OS, Bella Poarch - F OFF",  # bachata folder; a pop single
        "Bajofondo, Julieta Venegas - Pa' Bailar (Siempre Quiero Mas)",  # tango; electronic tango
    },
    "genrewave": {  # the file's own genre tag names another genre than its folder
        "AloneNehiloNehilo",  # Pop, tagged "edm"
        "OrangeJuiceSoniaIsabel",  # Folk, tagged "experimental"
        "NoMatterHowFarKyleCox",  # Folk, tagged "Indie"
    },
    "projectx": {
        "Mariah_Carey-Obsessed(sped_up_a_lil)",  # pop, but sped up (tempo and pitch changed)
        "A Day To Remember - Since youve Been Gone",  # soul folder; pop punk
        "Old Town Road (I Got The Horses In The Back) [Prod YoungKio]",  # country folder; country rap
    },
    "guesssong": {  # filed as Pop, but one of our other genres
        "kill_bill",
        "snooze",  # SZA: R&B
        "prada",  # cassö & RAYE: house
        "thrift",  # Macklemore & Ryan Lewis: hip-hop
    },
    "musicalstructure": {"01 - Intro (Back Home)", "10 - Redemption (Interlude)"},  # an intro, an interlude
    "songbird": {
        "ray-charles-hit-the-road-jack",  # jazz stage; R&B
        "Jay-Z&Linkin Park-Numb-Encore",  # rap stage; a rap-rock mash-up
        "Lady Gaga, BLACKPINK - Sour Candy",
        "madonna-hung-up",  # GuessSong has these songs already
    },
}


def slug(text: str) -> str:
    """ASCII, lower case, runs of anything else as one hyphen ("Pérez Prado - Mambo" -> "perez-prado-mambo")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def artist_fold(artist: str) -> str:
    """A fold from the artist's name: the same artist's songs share a fold."""
    return str(int(md5(slug(artist).encode()), 16) % 5)


@functools.cache
def guesssong_songs(gdir: Path, commit: str) -> dict[str, dict[str, Any]]:
    """janseweryn/GuessSong's src/songs.json by snippet path ("/songs/pop/bad_guy.mp3")."""
    return {song["snippet"]: song for song in json.loads(blob(gdir, commit, "src/songs.json"))}


# Kraft/Lerch enumeration: 0..11 major from A, 12..23 minor from A, -1 modulating or unknown.
LERCH_TONICS = ["A", "A#", "B", "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#"]


def lerch_key(number: int) -> str:
    if not 0 <= number < 24:
        return ""
    return f"{LERCH_TONICS[number % 12]} {'major' if number < 12 else 'minor'}"


def gtzan_fold(number: int) -> str:
    """GTZAN keeps an artist's clips together in id order; 5 folds of 20 ids approximate artist folds."""
    return str(number // 20)


def build(mirror: Path) -> list[Clip]:
    """Manifest rows from the snapshots; raises SnapshotError naming a missing snapshot."""
    for repo in sorted({s.repo for s in SOURCES} | set(ANNOTATIONS.values())):
        if not git_dir(mirror, repo).is_dir():
            raise SnapshotError(missing_message([repo], mirror))
    tempo_dir, key_dir, ballroom_dir, steps_dir = (
        git_dir(mirror, ANNOTATIONS[k]) for k in ("gtzan_tempo", "gtzan_key", "ballroom", "giantsteps_key")
    )
    tempo_commit, key_commit, ballroom_commit = head(tempo_dir), head(key_dir), head(ballroom_dir)
    steps_commit = head(steps_dir)
    clips: list[Clip] = []
    seen_ids: set[str] = set()
    seen_sha: dict[str, str] = {}
    for source in SOURCES:
        gdir = git_dir(mirror, source.repo)
        commit = git(gdir, "rev-parse", source.commit).decode().strip() if source.commit else head(gdir)
        for path in list_files(gdir, commit):
            match = re.match(source.pattern, path)
            if not match:
                continue
            try:
                data = blob(gdir, commit, path)
            except SnapshotError:  # a snapshot can list a large file it does not hold
                print(f"skipped {source.repo}:{path}: not in the snapshot", file=sys.stderr)
                continue
            if is_lfs_pointer(data):
                print(f"skipped {source.repo}:{path}: Git LFS pointer", file=sys.stderr)
                continue
            digest = sha256(data)
            groups = match.groupdict()
            if groups.get("file") in LEFT_OUT.get(source.name, set()):
                continue
            tempo = key = ""
            fold = "0"
            if source.vocabulary == "gtzan":
                label, num = groups["label"], groups["num"]
                clip_id = f"gtzan.{label}.{num}"
                bpm = blob(tempo_dir, tempo_commit, f"tempo/gtzan_{label}_{num}.bpm").split()
                tempo = f"{float(bpm[0]):.2f}" if bpm else ""
                lerch = blob(key_dir, key_commit, f"gtzan_key/genres/{label}/{label}.{num}.lerch.txt")
                key = lerch_key(int(lerch.split()[0]))
                fold = gtzan_fold(int(num))
                annotation = f"GTZAN-Rhythm {tempo_commit[:7]}; Kraft/Lerch key {key_commit[:7]}"
            elif source.vocabulary == "xai_genre":
                label = groups["label"]
                clip_id = f"xai.{label}"
                fold = str(len(clips) % 5)
                annotation = "genre from the file name"
            elif source.vocabulary == "librosa":
                clip_name, label, key = LIBROSA[groups["file"]]
                clip_id = f"librosa.{clip_name}"
                fold = str(len(clips) % 5)
                annotation = "key from the title" if key else "genre from the attribution file"
            elif source.vocabulary == "giantsteps":
                name = groups["file"]
                if blob(steps_dir, steps_commit, f"md5/{name}.md5").split()[0].decode() != md5(data):
                    print(f"skipped {source.repo}:{path}: not GiantSteps' {name}.mp3 (md5)", file=sys.stderr)
                    continue
                clip_id = f"giantsteps.{name.removesuffix('.LOFI')}"
                key = blob(steps_dir, steps_commit, f"annotations/key/{name}.key").decode().strip()
                label = blob(steps_dir, steps_commit, f"annotations/genre/{name}.genre").decode().strip()
                fold = str(len(clips) % 5)
                annotation = f"GiantSteps Key {steps_commit[:7]} (key; genre is Beatport's)"
            elif source.vocabulary in FILE_LABELS:
                labels = FILE_LABELS[source.vocabulary]
                if groups["file"] not in labels.files:
                    print(f"skipped {source.repo}:{path}: no label for it", file=sys.stderr)
                    continue
                label = labels.files[groups["file"]]
                clip_id = f"{source.name}.{groups['file'].lower()}"
                fold = str(len(clips) % 5)
                annotation = f"genre from {labels.where}"
            elif source.vocabulary == "dancequiz":
                label = groups["label"].split(",")[0]
                name = groups["file"]
                clip_id = f"dancequiz.{slug(name)}"
                fold = artist_fold(name.split(" - ")[0].split(",")[0])
                annotation = "genre from the dance folder the repository files the song under"
            elif source.vocabulary == "guesssong":
                song = guesssong_songs(gdir, commit).get(f"/{path.removeprefix('public/')}", {})
                genres = [c for c in song.get("categories", []) if not re.search(r"\d", c)]
                if genres != [groups["label"].capitalize()]:  # unlisted, or filed under two genres
                    print(
                        f"skipped {source.repo}:{path}: src/songs.json files it under {genres}",
                        file=sys.stderr,
                    )
                    continue
                label = genres[0]
                clip_id = f"guesssong.{slug(groups['file'])}"
                fold = artist_fold(song["artist"].split(" & ")[0].split(",")[0])
                annotation = f"genre from src/songs.json ({song['artist']} - {song['title']})"
            elif source.vocabulary in FOLDER_LABELLED:
                label = groups["label"]
                artist = groups.get("artist")  # when the path names the artist, its songs share a fold
                name = f"{artist} {groups['file']}" if artist else groups["file"]
                clip_id = f"{source.name}.{slug(name)}"
                fold = artist_fold(artist) if artist else str(len(clips) % 5)
                annotation = "genre from the folder the repository files the song under"
            else:  # ballroom
                label = groups["label"].lower()
                clip_id = f"ballroom.{groups['file']}"
                beats = blob(ballroom_dir, ballroom_commit, f"{groups['file']}.beats").decode().split("\n")
                times = [float(line.split()[0]) for line in beats if line.strip()]
                tempo = f"{60.0 / median_difference(times):.2f}"
                annotation = f"Ballroom beats {ballroom_commit[:7]} (median inter-beat interval)"
            if digest in seen_sha and seen_sha[digest] != clip_id:
                # e.g. ericodle/xLSTM-genre-classifier's classical.0000[0-2] are copies of blues.0000[0-2]
                print(f"skipped {source.repo}:{path}: the same audio as {seen_sha[digest]}", file=sys.stderr)
            if clip_id in seen_ids or digest in seen_sha:
                continue
            seen_ids.add(clip_id)
            seen_sha[digest] = clip_id
            genre = GENRE_MAP[source.vocabulary].get(label, "")
            clips.append(
                Clip(clip_id, source.name, source.repo, commit, path, digest, tempo, key, label, genre, fold,
                     annotation)
            )  # fmt: skip
    return clips


def median_difference(times: Sequence[float]) -> float:
    gaps = sorted(b - a for a, b in zip(times, times[1:], strict=False))
    return gaps[len(gaps) // 2]


def summary(clips: Sequence[Clip]) -> str:
    per_source = Counter(c.source for c in clips)
    per_genre = Counter(c.genre or "-" for c in clips)
    lines = [
        f"{len(clips)} clips; tempo {sum(bool(c.tempo) for c in clips)}, key {sum(bool(c.key) for c in clips)}",
        "per source: " + ", ".join(f"{k} {v}" for k, v in sorted(per_source.items())),
        "per genre: " + ", ".join(f"{k} {v}" for k, v in sorted(per_genre.items())),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["restore", "build"])
    parser.add_argument("--mirror", type=Path, default=DEFAULT_MIRROR, help="snapshots' folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="restore here (default var/realset)")
    parser.add_argument("--manifest", type=Path, default=MANIFEST)
    args = parser.parse_args(argv)
    if args.command == "build":
        try:
            clips = build(args.mirror)
        except SnapshotError as exc:
            print(exc, file=sys.stderr)
            return 2
        write_manifest(clips, args.manifest)
        print(f"wrote {args.manifest}\n{summary(clips)}")
        return 0
    report = restore(read_manifest(args.manifest), args.mirror, args.out)
    print(f"restored {len(report.restored)} clips under {args.out}\n{summary(report.restored)}")
    for clip, reason in report.failed:
        print(f"FAILED {clip.clip} ({clip.repo}:{clip.path}): {reason}", file=sys.stderr)
    if report.missing_repos:
        print(missing_message(report.missing_repos, args.mirror), file=sys.stderr)
    return 2 if report.missing_repos or report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
