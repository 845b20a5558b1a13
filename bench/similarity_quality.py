"""Does the blend find the sample a song was made from? Songs built from generated loops of distinct
instruments and styles, sample pools that contain those loops among others, ranked by the site's
own code (samples.similarity.rank_by_sound) on the real backbone's vectors (worker.backbone.embed).

    .venv/bin/python bench/similarity_quality.py            # 12 instruments × 2 styles = 24 songs
    .venv/bin/python bench/similarity_quality.py --quick    # 6 instruments, for a smoke run

Each loop is a MIDI pattern (pretty_midi) rendered by FluidSynth with the FluidR3 General MIDI
soundfont (Frank Wen, MIT licence; Debian's fluid-soundfont-gm). A song is its lead loop (one
instrument, one style: chords or arpeggio) played with other notes over a shared bass line and
drums, 20 s. The pool holds, for every instrument and style, a loop rendered from a different seed
(other notes, in another key), plus drum and bass loops on their own. Every loop carries the song's
BPM and no key (as many Freesound sounds have none), so tempo and key say nothing and the ranking
rests on the sound. The three samples shown are picked as the site picks them (the blend, then at
most one per pack and author). "Hit" = the pool loop of the song's own instrument and style is
among them.

Printed beside the baseline, in the same run: the rules without audio (samples.recommend.rank:
tempo, key, a seeded shuffle, then the same variety), whose chance of a hit is about 3 / pool size.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pretty_midi

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from samples.recommend import Candidate, pick_varied, rank  # noqa: E402
from samples.similarity import SongVectors, SoundVectors, rank_by_sound  # noqa: E402

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
SR = 16_000
BPM = 120
# (name, General MIDI program 0-based): distinct families, so "its own instrument" is well defined.
INSTRUMENTS = [
    ("piano", 0),
    ("organ", 16),
    ("nylon guitar", 24),
    ("distortion guitar", 30),
    ("violin", 40),
    ("string ensemble", 48),
    ("choir", 52),
    ("trumpet", 56),
    ("alto sax", 65),
    ("flute", 73),
    ("saw lead", 81),
    ("warm pad", 89),
]
STYLES = ("chords", "arpeggio")
KEYS = {"C major": 60, "A minor": 57, "F major": 65, "D minor": 62, "G major": 67, "E minor": 64}


@dataclass(frozen=True)
class Loop:
    name: str
    instrument: str
    style: str
    key: str
    audio: np.ndarray


def _pattern(
    pm: pretty_midi.PrettyMIDI, program: int, style: str, root: int, seconds: float, seed: int
) -> None:
    import pretty_midi

    rng = np.random.default_rng(seed)
    inst = pretty_midi.Instrument(program=program)
    beat = 60.0 / BPM
    minor = root in (57, 62, 64)
    triad = [0, 3, 7] if minor else [0, 4, 7]
    degrees = rng.permutation([0, 5, 7, 9 if not minor else 8])
    t, bar = 0.0, 0
    while t < seconds:
        chord_root = root + int(degrees[bar % len(degrees)]) - (12 if rng.random() < 0.3 else 0)
        notes = [chord_root + i for i in triad]
        if style == "chords":
            for n in notes:
                inst.notes.append(pretty_midi.Note(90, n, t, t + 4 * beat * 0.95))
        else:
            for step in range(8):
                n = notes[step % 3] + (12 if step >= 4 else 0)
                start = t + step * beat / 2
                inst.notes.append(pretty_midi.Note(95, n, start, start + beat / 2 * 0.9))
        t += 4 * beat
        bar += 1
    pm.instruments.append(inst)


def _drums(pm: pretty_midi.PrettyMIDI, seconds: float) -> None:
    import pretty_midi

    kit = pretty_midi.Instrument(program=0, is_drum=True)
    beat = 60.0 / BPM
    for i, t in enumerate(np.arange(0.0, seconds, beat / 2)):
        kit.notes.append(pretty_midi.Note(70, 42, t, t + 0.1))  # closed hat
        if i % 4 == 0:
            kit.notes.append(pretty_midi.Note(100, 36, t, t + 0.1))  # kick
        if i % 4 == 2:
            kit.notes.append(pretty_midi.Note(90, 38, t, t + 0.1))  # snare
    pm.instruments.append(kit)


def _bass(pm: pretty_midi.PrettyMIDI, root: int, seconds: float) -> None:
    import pretty_midi

    bass = pretty_midi.Instrument(program=33)
    beat = 60.0 / BPM
    for i, t in enumerate(np.arange(0.0, seconds, beat)):
        n = root - 24 + (7 if i % 8 >= 4 else 0)
        bass.notes.append(pretty_midi.Note(85, n, t, t + beat * 0.8))
    pm.instruments.append(bass)


def render(build: list, seconds: float, workdir: Path, name: str) -> np.ndarray:
    """MIDI → WAV with the fluidsynth command (16 kHz mono), the way a musician bounces a loop."""
    import pretty_midi
    import soundfile as sf

    pm = pretty_midi.PrettyMIDI(initial_tempo=BPM)
    for part in build:
        part(pm)
    mid, wav = workdir / f"{name}.mid", workdir / f"{name}.wav"
    pm.write(str(mid))
    subprocess.run(
        ["fluidsynth", "-ni", "-q", "-g", "0.6", "-r", str(SR), "-F", str(wav), str(SOUNDFONT), str(mid)],
        check=True,
        capture_output=True,
    )
    audio, rate = sf.read(str(wav), dtype="float32", always_2d=True)
    audio = audio.mean(axis=1)[: int(seconds * rate)]
    return (audio / max(float(np.abs(audio).max()), 1e-6) * 0.8).astype(np.float32)


def build_material(instruments: list[tuple[str, int]], workdir: Path) -> tuple[list[Loop], list[Loop]]:
    keys = list(KEYS.items())
    songs, pool = [], []
    for i, (inst, program) in enumerate(instruments):
        for j, style in enumerate(STYLES):
            song_key, song_root = keys[(i + j) % len(keys)]
            pool_key, pool_root = keys[(i + j + 3) % len(keys)]
            lead = f"{inst}-{style}"

            def song_parts(pm, p=program, s=style, r=song_root, seed=100 + 2 * i + j):
                _pattern(pm, p, s, r, 20.0, seed)
                _bass(pm, r, 20.0)
                _drums(pm, 20.0)

            def pool_parts(pm, p=program, s=style, r=pool_root, seed=900 + 2 * i + j):
                _pattern(pm, p, s, r, 8.0, seed)

            songs.append(
                Loop(lead, inst, style, song_key, render([song_parts], 20.0, workdir, f"song-{lead}"))
            )
            pool.append(Loop(lead, inst, style, pool_key, render([pool_parts], 8.0, workdir, f"loop-{lead}")))
    for k, (key, root) in enumerate(keys[:3]):
        pool.append(
            Loop(
                f"drums-{k}",
                "drums",
                "beat",
                "",
                render([lambda pm: _drums(pm, 8.0)], 8.0, workdir, f"drums-{k}"),
            )
        )
        pool.append(
            Loop(
                f"bass-{k}",
                "bass",
                "line",
                key,
                render([lambda pm, r=root: _bass(pm, r, 8.0)], 8.0, workdir, f"bass-{k}"),
            )
        )
    return songs, pool


def _maker(loop: Loop, i: int) -> tuple[str, str]:
    if loop.instrument in ("drums", "bass"):
        return f"{loop.instrument}-maker", f"{loop.instrument}-pack"
    return f"author{i}", f"pack{i}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="6 instruments instead of 12")
    args = parser.parse_args()
    if not shutil.which("fluidsynth") or not SOUNDFONT.exists():
        sys.exit(
            "needs the fluidsynth command and /usr/share/sounds/sf2/FluidR3_GM.sf2 (apt-get install fluidsynth fluid-soundfont-gm)"
        )
    from worker.backbone.embed import embed_clips

    instruments = INSTRUMENTS[::2] if args.quick else INSTRUMENTS
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        songs, pool = build_material(instruments, Path(tmp))
        t1 = time.perf_counter()
        song_vectors = embed_clips([s.audio for s in songs])
        pool_vectors = embed_clips([p.audio for p in pool])
        t2 = time.perf_counter()
    candidates = [
        # The drum loops come from one author's pack, the bass loops from another's, as on Freesound.
        Candidate(i + 1, *_maker(p, i), "cc0", 8.0, ("loop",), BPM, "")
        for i, p in enumerate(pool)
    ]
    vectors = {
        c.freesound_id: SoundVectors(v.embedding, v.tags)
        for c, v in zip(candidates, pool_vectors, strict=True)
    }
    target_of = {p.name: c.freesound_id for p, c in zip(pool, candidates, strict=True)}
    hits = {"blend": 0, "rules": 0}
    ranks = []
    print(
        f"{len(songs)} songs, pool of {len(pool)} loops; material {t1 - t0:.1f} s, backbone {t2 - t1:.1f} s"
    )
    for song, vec in zip(songs, song_vectors, strict=True):
        target = target_of[song.name]
        blended = rank_by_sound(
            candidates,
            song=SongVectors(vec.embedding, vec.tags),
            vectors=vectors,
            tempo=BPM,
            key=song.key,
            tolerance=6,
            seed=song.name,
        )
        order = [s.candidate.freesound_id for s in blended]
        # The site's last step: at most one sample per pack and per author (samples.recommend).
        shown = [
            p.freesound_id
            for p in pick_varied(
                [(s.candidate, s.in_tempo, s.in_key) for s in blended], genre="", count=3, exclude=set()
            )
        ]
        ruled = rank(candidates, tempo=BPM, key=song.key, tolerance=6, seed=song.name)
        rules = [p.freesound_id for p in pick_varied(ruled, genre="", count=3, exclude=set())]
        position = order.index(target) + 1
        ranks.append(position)
        hits["blend"] += target in shown
        hits["rules"] += target in rules
        top = ", ".join(pool[i - 1].name for i in shown)
        why = blended[order.index(target)].why
        print(f"  {song.name:<26} own loop ranked #{position:<3} shown: {top}  ({why})")
    n = len(songs)
    print(
        f"top-3 hit rate, blend (audio + tempo + key): {hits['blend'] / n:.0%} ({hits['blend']}/{n}); target ≥ 80 %"
    )
    print(f"top-3 hit rate, rules only (baseline):       {hits['rules'] / n:.0%} ({hits['rules']}/{n})")
    print(f"median rank of the song's own loop before variety: {np.median(ranks):g} of {len(pool)}")


if __name__ == "__main__":
    main()
