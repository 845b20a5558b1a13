"""Render the demo's audio once into the demo's var folder: the catalog previews and the sample library.

The cache folder is named after a hash of the content's descriptions, so changing a style or adding a
sound builds a fresh set, and a second start with nothing changed renders nothing.
Run alone: `python -m demo.build [VAR_DIR]` prints what it rendered and how long it took.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from corpus.compose import INSTRUMENTS

from .content import Sound, Track, catalog, library
from .music import MAX_PROGRAMS_PER_BATCH, render_batch

# Bump when demo.music changes how audio is made (the descriptions are hashed already).
RENDER_VERSION = "1"
# A batch's length in seconds of audio: long enough to pay FluidSynth's start-up once, short enough
# that both CPU cores get work.
BATCH_SECONDS = 240.0
# Seconds of music one core renders per second, for the estimate printed before a build: the slower
# of two measurements of the whole demo (2,497 s of music) on 2-core hosts, 128 s on a busy shared
# one (23 s on an idle one), so that the estimate is an upper bound.
RENDER_SPEED = 10.0

Item = Track | Sound


@dataclass(frozen=True)
class BuildReport:
    root: Path
    rendered: int
    cached: int
    seconds_of_audio: float
    elapsed: float

    def summary(self) -> str:
        if not self.rendered:
            return f"demo audio: all {self.cached} files cached in {self.root}"
        return (
            f"demo audio: rendered {self.rendered} files ({self.seconds_of_audio:.0f} s of music) "
            f"in {self.elapsed:.1f} s into {self.root}"
        )


def audio_root(var_dir: Path, size: float = 1.0) -> Path:
    described = repr((RENDER_VERSION, catalog(size), library(size))).encode()
    return Path(var_dir) / "demo-audio" / hashlib.sha256(described).hexdigest()[:12]


def track_path(root: Path, track_id: int) -> Path:
    return root / "tracks" / f"{track_id}.mp3"


def sound_path(root: Path, sound_id: int) -> Path:
    return root / "sounds" / f"{sound_id}.mp3"


def path_for(root: Path, item: Item) -> Path:
    return track_path(root, item.id) if isinstance(item, Track) else sound_path(root, item.id)


def seconds_of(item: Item) -> float:
    return item.style.seconds if isinstance(item, Track) else item.duration


def programs_of(item: Item) -> set[int]:
    """The General MIDI programs an item's clip will use, known without composing it."""
    if isinstance(item, Track):
        style = item.style
        return {INSTRUMENTS[p] for p in (style.chords, style.bass, style.melody) if p is not None}
    family = item.family
    if family.one_shot:
        return set() if family.drum else {family.program or 0}
    names = {"chords": family.style.get("chords", "piano"), "bass": family.style.get("bass", "finger_bass")}
    names["melody"] = family.style.get("melody", "square_lead")
    return {family.programs.get(part, INSTRUMENTS[names[part]]) for part in family.parts if part != "drums"}


def plan(items: Sequence[Item]) -> list[list[Item]]:
    """Group items into batches that fit one MIDI file's channels and about BATCH_SECONDS of audio."""
    groups: list[list[Item]] = []
    programs: set[int] = set()
    length = 0.0
    for item in items:
        wanted = programs | programs_of(item)
        if groups and len(wanted) <= MAX_PROGRAMS_PER_BATCH and length + seconds_of(item) <= BATCH_SECONDS:
            groups[-1].append(item)
            programs, length = wanted, length + seconds_of(item)
        else:
            groups.append([item])
            programs, length = programs_of(item), seconds_of(item)
    return groups


def missing_items(var_dir: Path, size: float = 1.0) -> list[Item]:
    root = audio_root(var_dir, size)
    items: list[Item] = [*catalog(size).tracks, *library(size)]
    return [item for item in items if not path_for(root, item).is_file()]


def build_estimate(var_dir: Path, size: float = 1.0, workers: int | None = None) -> str:
    """One line for the terminal before a build: what is left to render and roughly how long it
    takes at most; "" when everything is cached (the build's summary says so)."""
    missing = missing_items(var_dir, size)
    if not missing:
        return ""
    cores = max(1, min(workers or os.cpu_count() or 1, len(plan(missing))))
    music = sum(map(seconds_of, missing))
    minutes = max(1, round(music / (RENDER_SPEED * cores) / 60))
    return (
        f"demo audio: rendering {len(missing)} files ({music:.0f} s of music) in the background, "
        f"up to about {minutes} min on {cores} core{'s' if cores > 1 else ''}; a preview asked for before "
        "its turn is rendered on the spot"
    )


def render_items(root: Path, items: Sequence[Item]) -> None:
    """Compose and render these items (one FluidSynth run) into their cache files."""
    render_batch([(path_for(root, item), item.clip()) for item in items])


def _render_ids(root: str, size: float, ids: list[tuple[str, int]]) -> None:
    """Process-pool entry: items travel as ids (cheap to pickle) and are looked up again here."""
    tracks = {t.id: t for t in catalog(size).tracks}
    sounds = {s.id: s for s in library(size)}
    render_items(Path(root), [tracks[i] if kind == "track" else sounds[i] for kind, i in ids])


def build(var_dir: Path, *, size: float = 1.0, workers: int | None = None) -> BuildReport:
    started = time.monotonic()
    root = audio_root(var_dir, size)
    items: list[Item] = [*catalog(size).tracks, *library(size)]
    missing = missing_items(var_dir, size)
    groups = plan(missing)
    workers = max(1, min(workers or os.cpu_count() or 1, len(groups)))
    if groups and workers == 1:
        for group in groups:
            render_items(root, group)
    elif groups:
        # Longest batches first, so the last one to finish is a short one.
        groups.sort(key=lambda g: -sum(map(seconds_of, g)))
        # Spawned, not forked: the caller has threads (the providers' servers, a test's worker), and
        # a forked child can inherit a lock one of them held and wait on it forever.
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn")
        ) as pool:
            jobs = [
                pool.submit(
                    _render_ids,
                    str(root),
                    size,
                    [("track" if isinstance(i, Track) else "sound", i.id) for i in g],
                )
                for g in groups
            ]
            for job in jobs:
                job.result()
    return BuildReport(
        root=root,
        rendered=len(missing),
        cached=len(items) - len(missing),
        seconds_of_audio=sum(map(seconds_of, missing)),
        elapsed=time.monotonic() - started,
    )


def main(argv: Sequence[str]) -> None:
    var_dir = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent / "var" / "demo"
    print(build(var_dir).summary())


if __name__ == "__main__":
    main(sys.argv[1:])
