"""Generate the annotated development corpus for bench/accuracy.py (synthetic, from a fixed seed).

    .venv/bin/python bench/make_corpus.py [--out var/corpus] [--per-style 20] [--seed 7] [--jobs 1]

Each clip is a 30 s piece composed by corpus.compose from a style (rock, dance, boom-bap, half-time
hip-hop, trap, drum'n'bass, ballad with rubato, waltz in 3/4, swing, shuffle blues, minor-pentatonic
riffs, acoustic without drums), in a key that rotates through all 12 tonics, rendered with FluidSynth
and the FluidR3 General MIDI soundfont. About half the clips then get one augmentation: room reverb,
background noise at 10-20 dB SNR, or a 128 kbps MP3 round trip through ffmpeg.

Output: <out>/clips/*.flac|*.mp3, <out>/beats/<clip>.txt (true beat times, one per line) and
<out>/annotations.tsv (file, tempo, key, genre, augmentation; see docs/accuracy.md). The default
(12 styles x 16 = 192 clips) takes a few minutes on two cores. Nothing is committed: var/ is ignored.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpus.compose import DrumPattern, Mode, Style, compose  # noqa: E402
from corpus.render import render_wav  # noqa: E402

SAMPLE_RATE = 22_050
CLIP_S = 30.0
AUGMENTATIONS = ("none", "none", "none", "reverb", "noise", "mp3")  # half the clips stay clean


@dataclass(frozen=True)
class Recipe:
    """How to draw one style: tempo range, modes, meter, feel, drums and instrument choices."""

    name: str
    tempo: tuple[float, float]
    modes: tuple[Mode, ...]
    drums: tuple[DrumPattern, ...]
    meter: int = 4
    swing: bool = False
    rubato: tuple[float, float] = (0.0, 0.0)
    chords: tuple[str, ...] = ("piano", "electric_piano", "clean_guitar")
    bass: tuple[str, ...] = ("finger_bass", "acoustic_bass")
    melody: tuple[str | None, ...] = ("square_lead", "flute", "trumpet", None)


RECIPES = (
    Recipe(
        "rock", (90, 165), ("major", "minor", "mixolydian"), ("rock",), chords=("overdriven_guitar", "piano")
    ),
    Recipe(
        "dance",
        (115, 135),
        ("minor", "major", "dorian"),
        ("four_on_floor",),
        chords=("warm_pad", "electric_piano"),
        bass=("synth_bass",),
    ),
    Recipe(
        "boombap",
        (80, 98),
        ("minor", "dorian"),
        ("rock",),
        swing=True,
        chords=("electric_piano", "piano"),
        melody=("vibraphone", None),
    ),
    Recipe(
        "halftime",
        (130, 170),
        ("minor", "minor_pentatonic"),
        ("halftime",),
        chords=("electric_piano", "strings"),
        bass=("synth_bass", "finger_bass"),
    ),
    Recipe(
        "trap",
        (130, 160),
        ("minor", "minor_pentatonic"),
        ("trap",),
        chords=("warm_pad", "strings"),
        bass=("synth_bass",),
        melody=("square_lead", "flute"),
    ),
    Recipe(
        "dnb", (160, 180), ("minor", "dorian"), ("dnb",), chords=("warm_pad", "strings"), bass=("synth_bass",)
    ),
    Recipe(
        "ballad",
        (60, 80),
        ("major", "minor"),
        ("ballad", "none"),
        rubato=(0.04, 0.08),
        chords=("piano", "strings", "nylon_guitar"),
        melody=("flute", "tenor_sax", "strings"),
    ),
    Recipe(
        "waltz",
        (90, 180),
        ("major", "minor"),
        ("rock", "none"),
        meter=3,
        chords=("piano", "nylon_guitar"),
        bass=("acoustic_bass",),
    ),
    Recipe(
        "swing",
        (110, 200),
        ("major", "dorian", "mixolydian"),
        ("rock",),
        swing=True,
        chords=("electric_piano", "vibraphone", "piano"),
        bass=("acoustic_bass",),
        melody=("tenor_sax", "trumpet"),
    ),
    Recipe(
        "blues",
        (60, 120),
        ("blues",),
        ("rock", "none"),
        swing=True,
        chords=("organ", "clean_guitar", "piano"),
        melody=("tenor_sax", "overdriven_guitar", None),
    ),
    Recipe(
        "pentatonic",
        (85, 135),
        ("minor_pentatonic",),
        ("rock", "four_on_floor"),
        chords=("overdriven_guitar", "clean_guitar"),
        melody=("overdriven_guitar", "square_lead"),
    ),
    Recipe(
        "acoustic",
        (60, 140),
        ("major", "minor"),
        ("none",),
        chords=("steel_guitar", "nylon_guitar", "piano"),
        bass=("acoustic_bass",),
        melody=("flute", "vibraphone", None),
    ),
)


@dataclass(frozen=True)
class Job:
    index: int
    style: Style
    seed: int
    augmentation: str


def plan(per_style: int, seed: int) -> list[Job]:
    """Every clip's style, key, tempo and augmentation, drawn from one seeded generator."""
    rng = np.random.default_rng(seed)
    jobs: list[Job] = []
    for r, recipe in enumerate(RECIPES):
        for i in range(per_style):
            mode = recipe.modes[i % len(recipe.modes)]
            # Rotate tonics so each style visits all 12 keys, offset per style to mix modes and keys.
            tonic = (i * 7 + r * 5) % 12
            style = Style(
                name=recipe.name,
                tempo=round(float(rng.uniform(*recipe.tempo)), 1),
                tonic=tonic,
                mode=mode,
                meter=recipe.meter,
                swing=recipe.swing,
                drums=recipe.drums[int(rng.integers(len(recipe.drums)))],
                rubato=round(float(rng.uniform(*recipe.rubato)), 3),
                chords=str(rng.choice(recipe.chords)),
                bass=str(rng.choice(recipe.bass)),
                melody=recipe.melody[int(rng.integers(len(recipe.melody)))],
                seconds=CLIP_S + 1.0,  # a little longer, cut to exactly 30 s after rendering
            )
            augmentation = AUGMENTATIONS[int(rng.integers(len(AUGMENTATIONS)))]
            jobs.append(Job(len(jobs), style, int(rng.integers(2**31)), augmentation))
    return jobs


def clip_name(job: Job) -> str:
    return f"{job.index:04d}_{job.style.name}"


def make_clip(job: Job, out: Path) -> str:
    """Compose, render, cut to 30 s, augment and write one clip; return its annotation line."""
    piece = compose(job.style, seed=job.seed)
    rng = np.random.default_rng(job.seed)
    with tempfile.TemporaryDirectory(prefix="corpus-") as tmp:
        wav = render_wav(piece.midi, Path(tmp) / "piece.wav", sample_rate=SAMPLE_RATE)
        audio, _ = sf.read(wav, dtype="float32")
        audio = audio.mean(axis=1)[: int(CLIP_S * SAMPLE_RATE)]
        audio = augment(audio, job.augmentation, rng)
        name = clip_name(job)
        if job.augmentation == "mp3":
            path = out / "clips" / f"{name}.mp3"
            to_mp3(audio, Path(tmp), path)
        else:
            path = out / "clips" / f"{name}.flac"
            sf.write(path, audio, SAMPLE_RATE, subtype="PCM_16")
    beats = piece.beats[piece.beats < CLIP_S]
    np.savetxt(out / "beats" / f"{name}.txt", beats, fmt="%.4f")
    return f"clips/{path.name}\t{piece.tempo:g}\t{piece.key}\t{job.style.name}\t{job.augmentation}"


def augment(audio: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind == "reverb":
        return _normalise(_reverb(audio, rt60=float(rng.uniform(0.8, 2.0)), rng=rng))
    if kind == "noise":
        return _normalise(_add_noise(audio, snr_db=float(rng.uniform(10.0, 20.0)), rng=rng))
    return _normalise(audio)


def _reverb(audio: np.ndarray, rt60: float, rng: np.random.Generator) -> np.ndarray:
    """Convolution with exponentially decaying noise (the usual statistical model of a diffuse
    room tail: 60 dB of decay in rt60 seconds), mixed 1:1 with the dry signal."""
    from scipy.signal import fftconvolve

    t = np.arange(int(rt60 * SAMPLE_RATE)) / SAMPLE_RATE
    tail = rng.standard_normal(len(t)) * 10 ** (-3.0 * t / rt60)
    tail /= np.sqrt(np.sum(tail**2))
    wet = fftconvolve(audio, tail)[: len(audio)]
    return (audio + wet).astype(np.float32)


def _add_noise(audio: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Pink-ish background noise (white noise through a one-pole low-pass) at the given SNR."""
    from scipy.signal import lfilter

    noise = lfilter([1.0], [1.0, -0.95], rng.standard_normal(len(audio)))
    gain = np.sqrt(np.mean(audio**2) / (np.mean(noise**2) * 10 ** (snr_db / 10)))
    return (audio + gain * noise).astype(np.float32)


def _normalise(audio: np.ndarray, peak: float = 0.9) -> np.ndarray:
    return (audio * (peak / max(float(np.abs(audio).max()), 1e-9))).astype(np.float32)


def to_mp3(audio: np.ndarray, tmp: Path, path: Path) -> None:
    wav = tmp / "clip.wav"
    sf.write(wav, audio, SAMPLE_RATE, subtype="PCM_16")
    cmd = ["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-c:a", "libmp3lame", "-b:a", "128k", str(path)]
    subprocess.run(cmd, check=True, timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("var/corpus"))
    parser.add_argument("--per-style", type=int, default=16, help="clips per style (12 styles; default 16)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--jobs", type=int, default=1, help="parallel renders (the machine is shared: default 1)"
    )
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        sys.exit("ffmpeg is needed for the MP3 augmentation (Debian package: ffmpeg)")
    if args.out.exists():
        shutil.rmtree(args.out / "clips", ignore_errors=True)
        shutil.rmtree(args.out / "beats", ignore_errors=True)
    (args.out / "clips").mkdir(parents=True, exist_ok=True)
    (args.out / "beats").mkdir(parents=True, exist_ok=True)

    jobs = plan(args.per_style, args.seed)
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        lines = list(pool.map(make_clip, jobs, [args.out] * len(jobs)))
    header = "file\ttempo\tkey\tgenre\taugmentation"
    (args.out / "annotations.tsv").write_text("\n".join([header, *lines]) + "\n")
    print(f"{len(lines)} clips in {time.perf_counter() - start:.0f} s -> {args.out / 'annotations.tsv'}")


if __name__ == "__main__":
    main()
