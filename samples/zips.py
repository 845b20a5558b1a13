"""The contents of a pack ZIP: the HQ MP3 previews (or the original files, with the owner's
Freesound account), or WAVs conformed to a song's tempo and key, or
both (in originals/ and conformed/), named for a DAW (`dusty_kick_loop_96bpm_Am.wav`);
ATTRIBUTION.txt in the form CC BY asks for (title, author, source, licence with its link, and what
was changed) and pack.json."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import IO

from .licences import Licence, licence_from_url, licence_full_name

# The sound's audio: bytes, or an open binary file (an original, copied in chunks and closed), or
# None when the sound is gone.
Fetch = Callable[["ZipSound"], bytes | IO[bytes] | None]
Conform = Callable[["ZipSound"], "ConformedFile"]  # the sound's render for the chosen song
Progress = Callable[[int, int], None]  # (done, total)

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')
_AUDIO_SUFFIX = re.compile(r"\.(wav|aiff?|flac|mp3|ogg|m4a)$", re.IGNORECASE)


@dataclass(frozen=True)
class ZipSound:
    freesound_id: int
    name: str
    author: str
    licence_url: str
    page_url: str
    preview_url: str
    duration: float
    bpm: int | None
    key: str
    tags: Sequence[str]
    suffix: str = "mp3"  # the file's: "mp3" for a preview, the original's container otherwise
    original: bool = False  # the original upload, downloaded with the owner's Freesound account
    note: str = ""  # why the preview stands in for the original, when it does


@dataclass(frozen=True)
class ConformTarget:
    """The song a ZIP's WAVs are conformed to, with the tempo and key they follow; or, with
    `each`, none: every sound follows the song it was saved from, which its render names."""

    song: str
    tempo_bpm: float | None = None
    key: str = ""
    each: bool = False


EACH_OWN_SONG = ConformTarget("", each=True)


@dataclass(frozen=True)
class ConformedFile:
    """One sound's render: its file name and bytes, what was done, or why there is none; `song`
    names the song it follows when the ZIP's sounds follow their own songs."""

    filename: str
    data: bytes | None
    description: str
    tempo_bpm: float | None = None
    key: str = ""
    semitones: int = 0
    error: str = ""
    song: str = ""


def pack_zip_filename(pack_name: str) -> str:
    """The download name of a pack's ZIP: its name, with only safe characters."""
    safe = "".join(c if c.isalnum() or c in " -_" else "_" for c in pack_name).strip()
    return f"{safe or 'pack'}.zip"


_NOT_WORD = re.compile(r"[^a-z0-9]+")
_KEY = re.compile(r"\s*([A-Ga-g])\s*([#♯b♭]?)\s*(major|minor|maj|min|m)?\s*", re.IGNORECASE)
_ACCIDENTAL = {"#": "s", "♯": "s", "b": "b", "♭": "b", "": ""}
# A note's sharp inside a name ("C# minor", "F#m"): kept as "s", the way file names spell it.
_NAMED_SHARP = re.compile(r"(?<![A-Za-z0-9])([A-Ga-g])[#♯]")
# The tempo and key words a sound's name may carry ("126 BPM", "eb_minor", "C#m", "in A min"):
# a conformed file drops them, since it has another tempo and key. Only these shapes are
# recognised; a bare note ("C", "Eb") is left alone, and "Am"-like words need a capital letter.
_EDGE_BEFORE, _EDGE_AFTER = r"(?<![A-Za-z0-9])", r"(?![A-Za-z0-9])"
_SEP = r"[\s_\-]*"
_NAME_TEMPO = re.compile(rf"{_EDGE_BEFORE}\d{{2,3}}(?:\.\d+)?{_SEP}bpm{_EDGE_AFTER}", re.IGNORECASE)
_NAME_KEY = re.compile(
    rf"{_EDGE_BEFORE}(?:(?i:in){_SEP})?(?:"
    rf"(?i:[A-G][#♯b♭]?{_SEP}(?:major|minor|maj|min))"
    rf"|[A-G][#♯b♭]?m"
    rf"){_EDGE_AFTER}"
)


def key_short(key: str) -> str:
    """The key as file names carry it: "A minor" → "Am", "C# minor" → "Csm", "F# major" → "Fs",
    "Eb minor" → "Ebm" (a sharp is "s", a flat "b", minor adds "m"); anything else → ""."""
    match = _KEY.fullmatch(key or "")
    if not match:
        return ""
    letter, accidental, mode = match.groups()
    minor = mode is not None and (mode.lower() in ("minor", "min") or mode == "m")
    return letter.upper() + _ACCIDENTAL[accidental] + ("m" if minor else "")


def name_without_tempo_and_key(name: str) -> str:
    """The name with its tempo and key words taken out: "Tech House Bassline 126 BPM Eb minor 4"
    → "Tech House Bassline 4"."""
    return _NAME_KEY.sub(" ", _NAME_TEMPO.sub(" ", name))


def daw_filename(
    *, name: str, bpm: float | None, key: str | None, suffix: str, conformed: bool = False
) -> str:
    """`dusty_kick_loop_96bpm_Am.wav`: the name in lowercase words, then BPM and key when known
    (key_short's spelling, so a sharp survives as "s": `pad_97bpm_Csm.wav`). A conformed file's
    name carries only its own tempo and key: the name's words for the original's are dropped."""
    name = _AUDIO_SUFFIX.sub("", name.strip())
    if conformed:
        name = name_without_tempo_and_key(name)
    name = _NAMED_SHARP.sub(r"\1s", name).replace("♭", "b")
    stem = _NOT_WORD.sub("_", name.lower()).strip("_")[:80] or "sample"
    parts = [stem]
    if bpm:
        parts.append(f"{round(bpm)}bpm")
    if short := key_short(key or ""):
        parts.append(short)
    return "_".join(parts) + f".{suffix}"


def dedupe(names: Sequence[str]) -> list[str]:
    """The same names, a repeat (ignoring case) getting _2, _3… before its suffix."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name.lower()] = seen.get(name.lower(), 0) + 1
        if seen[name.lower()] > 1:
            stem, dot, suffix = name.rpartition(".")
            name = f"{stem}_{seen[name.lower()]}{dot}{suffix}"
        unique.append(name)
    return unique


def unique_names(sounds: Sequence[ZipSound]) -> list[str]:
    """The originals' names: `pad_90bpm_Am.mp3` (`.wav`, `.flac`… for original files), unique
    within the ZIP."""
    return dedupe([daw_filename(name=s.name, bpm=s.bpm, key=s.key, suffix=s.suffix) for s in sounds])


def attribution_line(sound: ZipSound) -> str:
    licence = Licence(licence_from_url(sound.licence_url))
    line = (
        f'"{sound.name}" by {sound.author} (https://freesound.org/people/{sound.author}/), '
        f"from Freesound: {sound.page_url} — licensed under {licence_full_name(sound.licence_url)}: "
        f"{sound.licence_url}"
    )
    if licence == Licence.BY_NC:
        line += " — non-commercial use only"
    elif licence == Licence.CC0:
        line += " — no attribution required; credit is appreciated"
    return line


def attribution_text(
    *,
    pack_name: str,
    sounds: Sequence[ZipSound],
    missing: set[int],
    target: ConformTarget | None = None,
    conformed: Mapping[int, ConformedFile] | None = None,
) -> str:
    lines = [f"Sample pack: {pack_name}", *_source_lines(sounds)]
    if target is not None and target.each:
        lines += [
            "The WAV files are modified versions of these sounds: each conformed to the tempo and key of",
            "the song it was saved from (named after its credit) with Rubber Band (time-stretched and/or",
            "pitch-shifted, as noted). Say that they were modified when you credit them.",
        ]
    elif target is not None:
        lines += [
            f"The WAV files are modified versions of these sounds: conformed to “{target.song}”"
            f"{_target_words(target)} with Rubber Band (time-stretched and/or pitch-shifted, as noted",
            "after each credit). Say that they were modified when you credit them.",
        ]
    lines.append("")
    for sound in sounds:
        gone = " [no longer on Freesound; not included]" if sound.freesound_id in missing else ""
        change = ""
        if conformed and (render := conformed.get(sound.freesound_id)) is not None:
            change = _change_words(render)
        note = f" [the MP3 preview: {sound.note}]" if sound.note else ""
        lines.append(f"- {attribution_line(sound)}{gone}{note}{change}")
    return "\n".join(lines) + "\n"


def _source_lines(sounds: Sequence[ZipSound]) -> list[str]:
    originals = sum(1 for sound in sounds if sound.original)
    if not originals:
        return [
            "Sounds from Freesound (https://freesound.org). The MP3 files are Freesound's previews;",
            "download originals from each sound's page. Credit each sound as below when you use it.",
        ]
    some = "" if originals == len(sounds) else " (the MP3 files are previews, where noted below)"
    return [
        "Sounds from Freesound (https://freesound.org): the original files as their authors uploaded",
        f"them, downloaded with your Freesound account{some}. Credit each sound as below when you use it.",
    ]


def _change_words(render: ConformedFile) -> str:
    if render.data is None:
        return f" [not conformed: {render.error}]"
    song = f" for “{render.song}”" if render.song else ""
    return f" [modified{song}: {render.description}; {render.filename}]"


def _target_words(target: ConformTarget) -> str:
    facts = [f"{target.tempo_bpm:g} BPM" if target.tempo_bpm else "", target.key]
    words = ", ".join(fact for fact in facts if fact)
    return f" ({words})" if words else ""


def pack_json(
    *,
    pack_name: str,
    notes: str,
    created: datetime,
    sounds: Sequence[ZipSound],
    files: Sequence[str | None],
    missing: set[int],
    contents: str = "originals",
    target: ConformTarget | None = None,
    conformed: Mapping[int, ConformedFile] | None = None,
) -> str:
    conformed = conformed or {}
    payload = {
        "name": pack_name,
        "notes": notes,
        "created": created.isoformat(),
        "source": "https://freesound.org",
        "contents": contents,
        "conformed_to": _target_json(target),
        "sounds": [
            {
                "freesound_id": s.freesound_id,
                "name": s.name,
                "author": s.author,
                "licence": Licence(licence_from_url(s.licence_url)).label,
                "licence_url": s.licence_url,
                "url": s.page_url,
                "file": None if s.freesound_id in missing else f,
                "source": "original" if s.original else "preview",
                "duration": s.duration,
                "bpm": s.bpm,
                "key": s.key or None,
                "tags": list(s.tags),
                "conformed": _conformed_json(conformed.get(s.freesound_id), target),
            }
            for s, f in zip(sounds, files, strict=True)
        ],
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def _target_json(target: ConformTarget | None) -> dict | None:
    if target is None:
        return None
    if target.each:  # each sound's own song is in its "conformed"
        return {"song": None, "each_to_its_song": True, "tool": "Rubber Band"}
    return {
        "song": target.song,
        "tempo_bpm": target.tempo_bpm,
        "key": target.key or None,
        "tool": "Rubber Band",
    }


def _conformed_json(render: ConformedFile | None, target: ConformTarget | None) -> dict | None:
    if render is None or target is None:
        return None
    if render.data is None:
        return {"file": None, "error": render.error}
    return {
        **({"song": render.song} if render.song else {}),
        "file": render.filename,
        "tempo_bpm": render.tempo_bpm,
        "key": render.key or None,
        "semitones": render.semitones,
        "done": render.description,
        "format": "WAV 44.1 kHz 16-bit",
    }


def zip_write(
    target: IO[bytes],
    *,
    pack_name: str,
    notes: str,
    created: datetime,
    sounds: Sequence[ZipSound],
    fetch: Fetch,
    progress: Progress | None = None,
    contents: str = "originals",
    conform: Conform | None = None,
    conform_target: ConformTarget | None = None,
) -> set[int]:
    """Write the ZIP into `target`; returns the ids of sounds whose preview was gone.

    contents: "originals" (the MP3 previews), "conformed" (WAVs from `conform`; a sound that could
    not be conformed, or has no song to follow, keeps its MP3, and the files say why) or "both"
    (originals/ and conformed/). `conform_target` is the one song, or EACH_OWN_SONG."""
    with_conformed = contents in ("conformed", "both") and conform is not None
    with_originals = contents != "conformed" or not with_conformed
    folders = contents == "both" and with_conformed
    names = unique_names(sounds)
    missing: set[int] = set()
    renders: dict[int, ConformedFile] = {}
    files: list[str | None] = []
    # MP3s are already compressed: storing them saves CPU and loses nothing. WAVs deflate a little.
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        wav_names: set[str] = set()
        for done, (sound, filename) in enumerate(zip(sounds, names, strict=True), start=1):
            render = conform(sound) if with_conformed and conform is not None else None
            if render is not None:
                if render.data is not None:
                    render = _unique_render_name(render, wav_names)
                renders[sound.freesound_id] = render
                if render.data is not None:
                    path = f"conformed/{render.filename}" if folders else render.filename
                    archive.writestr(path, render.data, zipfile.ZIP_DEFLATED)
            keep_original = with_originals or (render is not None and render.data is None)
            file = None
            if keep_original:
                data = fetch(sound)
                if data is None:
                    missing.add(sound.freesound_id)
                else:
                    file = f"originals/{filename}" if folders else filename
                    _write(archive, file, data)
            files.append(file)
            if progress:
                progress(done, len(sounds))
        deflate = zipfile.ZIP_DEFLATED
        archive.writestr(
            "ATTRIBUTION.txt",
            attribution_text(
                pack_name=pack_name,
                sounds=sounds,
                missing=missing,
                target=conform_target if with_conformed else None,
                conformed=renders,
            ),
            deflate,
        )
        archive.writestr(
            "pack.json",
            pack_json(
                pack_name=pack_name,
                notes=notes,
                created=created,
                sounds=sounds,
                files=files,
                missing=missing,
                contents=contents if with_conformed else "originals",
                target=conform_target if with_conformed else None,
                conformed=renders,
            ),
            deflate,
        )
    return missing


def _write(archive: zipfile.ZipFile, name: str, data: bytes | IO[bytes]) -> None:
    if isinstance(data, bytes):
        archive.writestr(name, data)
        return
    with data, archive.open(name, "w", force_zip64=True) as out:  # originals may be large
        shutil.copyfileobj(data, out, 1024 * 1024)


def _unique_render_name(render: ConformedFile, taken: set[str]) -> ConformedFile:
    name, n = render.filename, 2
    stem, dot, suffix = render.filename.rpartition(".")
    while name.lower() in taken:
        name, n = f"{stem}_{n}{dot}{suffix}", n + 1
    taken.add(name.lower())
    return replace(render, filename=name)
