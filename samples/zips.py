"""The contents of a pack ZIP: the HQ MP3 previews named `author - name.mp3`, ATTRIBUTION.txt in
the form CC BY asks for (title, author, source, licence with its link) and pack.json."""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from .licences import Licence, licence_from_url, licence_full_name

Fetch = Callable[[str], bytes | None]  # preview URL → bytes, or None when the sound is gone
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


def mp3_filename(author: str, name: str) -> str:
    """`author - name.mp3`, without path separators or characters Windows refuses."""
    stem = _AUDIO_SUFFIX.sub("", name.strip())
    clean = _UNSAFE.sub("_", f"{author.strip()} - {stem}").strip(" .")[:150]
    return f"{clean or 'sound'}.mp3"


def pack_zip_filename(pack_name: str) -> str:
    """The download name of a pack's ZIP: its name, with only safe characters."""
    safe = "".join(c if c.isalnum() or c in " -_" else "_" for c in pack_name).strip()
    return f"{safe or 'pack'}.zip"


def unique_names(sounds: Sequence[ZipSound]) -> list[str]:
    seen: dict[str, int] = {}
    names = []
    for sound in sounds:
        name = mp3_filename(sound.author, sound.name)
        seen[name.lower()] = seen.get(name.lower(), 0) + 1
        if seen[name.lower()] > 1:
            name = f"{name[:-4]} ({seen[name.lower()]}).mp3"
        names.append(name)
    return names


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


def attribution_text(*, pack_name: str, sounds: Sequence[ZipSound], missing: set[int]) -> str:
    lines = [
        f"Sample pack: {pack_name}",
        "Sounds from Freesound (https://freesound.org). The files are Freesound's MP3 previews;",
        "download originals from each sound's page. Credit each sound as below when you use it.",
        "",
    ]
    for sound in sounds:
        gone = " [no longer on Freesound; not included]" if sound.freesound_id in missing else ""
        lines.append(f"- {attribution_line(sound)}{gone}")
    return "\n".join(lines) + "\n"


def pack_json(
    *,
    pack_name: str,
    notes: str,
    created: datetime,
    sounds: Sequence[ZipSound],
    files: Sequence[str],
    missing: set[int],
) -> str:
    payload = {
        "name": pack_name,
        "notes": notes,
        "created": created.isoformat(),
        "source": "https://freesound.org",
        "sounds": [
            {
                "freesound_id": s.freesound_id,
                "name": s.name,
                "author": s.author,
                "licence": Licence(licence_from_url(s.licence_url)).label,
                "licence_url": s.licence_url,
                "url": s.page_url,
                "file": None if s.freesound_id in missing else f,
                "duration": s.duration,
                "bpm": s.bpm,
                "key": s.key or None,
                "tags": list(s.tags),
            }
            for s, f in zip(sounds, files, strict=True)
        ],
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def zip_write(
    target: IO[bytes],
    *,
    pack_name: str,
    notes: str,
    created: datetime,
    sounds: Sequence[ZipSound],
    fetch: Fetch,
    progress: Progress | None = None,
) -> set[int]:
    """Write the ZIP into `target`; returns the ids of sounds whose preview was gone."""
    files = unique_names(sounds)
    missing: set[int] = set()
    # MP3s are already compressed: storing them saves CPU and loses nothing.
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        for done, (sound, filename) in enumerate(zip(sounds, files, strict=True), start=1):
            data = fetch(sound.preview_url)
            if data is None:
                missing.add(sound.freesound_id)
            else:
                archive.writestr(filename, data)
            if progress:
                progress(done, len(sounds))
        deflate = zipfile.ZIP_DEFLATED
        archive.writestr(
            "ATTRIBUTION.txt", attribution_text(pack_name=pack_name, sounds=sounds, missing=missing), deflate
        )
        archive.writestr(
            "pack.json",
            pack_json(
                pack_name=pack_name, notes=notes, created=created, sounds=sounds, files=files, missing=missing
            ),
            deflate,
        )
    return missing
