"""Rubber Band render time per sample (median, p95) and the cost of a cache hit.

Generated loops (clicks and a chord pad, 8 beats at 80-160 BPM, as 128 kbps MP3 like Freesound's
HQ previews) are conformed to a 96 BPM song in A minor the way the site does it: decode, resample
to 44.1 kHz, one Rubber Band pass (stretch and shift), 16-bit WAV. Printed beside a baseline from
the same run: the same samples only decoded and written as WAV (no Rubber Band). The cache hit is
samples.conform.conforming.render_request on a finished render (a row lookup and a file check), in a
scratch SQLite database; compared with the full render it saves.

    .venv/bin/python bench/render.py [--samples 20]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SONG_BPM, SONG_KEY = 96.0, "A minor"
KEYS = ["C minor", "D major", "E minor", "F major", "G minor", "A major", "Bb major", "B minor"]


def loop_audio(bpm: float, beats: int, root_hz: float, rate: int = 44_100) -> np.ndarray:
    """Clicks on the beats over a soft triad: something with transients and pitch."""
    from tests.samples.audio_gen import click_loop

    clicks = click_loop(bpm, beats, rate=rate)
    t = np.arange(clicks.size) / rate
    pad = sum(0.12 * np.sin(2 * np.pi * root_hz * ratio * t) for ratio in (1.0, 1.2, 1.5))
    return np.stack([clicks + pad, clicks * 0.9 + pad], axis=1).astype(np.float32)


def mp3_bytes(samples: np.ndarray, scratch: Path) -> bytes:
    import soundfile as sf

    wav, mp3 = scratch / "in.wav", scratch / "in.mp3"
    sf.write(wav, samples, 44_100)
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), "-b:a", "128k", str(mp3)], check=True
    )
    return mp3.read_bytes()


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def line(label: str, values: list[float]) -> str:
    return f"  {label:<38} median {statistics.median(values) * 1000:8.1f} ms   p95 {percentile(values, 95) * 1000:8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--hits", type=int, default=200)
    args = parser.parse_args()
    if shutil.which("rubberband") is None or shutil.which("ffmpeg") is None:
        sys.exit("bench/render.py needs rubberband-cli and ffmpeg on PATH")

    scratch = Path(tempfile.mkdtemp(prefix="sevenfour-bench-render-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "sevenfour_site.settings",
            "DEBUG": "1",
            "SECRET_KEY": "bench-only",
            "DATABASE_URL": f"sqlite:///{scratch / 'bench.sqlite3'}",
            "MEDIA_ROOT": str(scratch / "media"),
            "VAR_DIR": str(scratch),
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.core.files.base import ContentFile

    from samples.conform import conforming
    from samples.conform.rendering import decode, encode_wav, render
    from samples.models import ConformedRender, Sound
    from worker.music.conform import conform_plan

    rng = random.Random(7)
    sources = []
    for i in range(args.samples):
        bpm = rng.choice([80, 90, 100, 110, 120, 124, 128, 140, 150, 160])
        key = rng.choice(KEYS)
        data = mp3_bytes(loop_audio(bpm, 8, 110.0 * 2 ** (rng.randrange(12) / 12)), scratch)
        sources.append((i, bpm, key, data))

    baseline, renders, made = [], [], []
    for i, bpm, key, data in sources:
        started = time.perf_counter()
        samples, rate = decode(data)
        encode_wav(samples, rate)
        baseline.append(time.perf_counter() - started)

        plan = conform_plan(
            sample_bpm=bpm, sample_key=key, duration_s=8 * 60 / bpm, song_bpm=SONG_BPM, song_key=SONG_KEY
        )
        started = time.perf_counter()
        out = render(
            data, source_bpm=bpm, target_bpm=plan.target_bpm, semitones=plan.semitones, max_source_s=30
        )
        renders.append(time.perf_counter() - started)
        made.append((i, bpm, key, plan, out))

    # The cache: each sample's finished render as the site keeps it, then asked for again.
    rows = []
    for i, bpm, key, plan, out in made:
        sound = Sound.objects.create(
            freesound_id=10_000 + i,
            name=f"bench loop {i}",
            author="bench",
            licence_url="http://creativecommons.org/publicdomain/zero/1.0/",
            duration=8 * 60 / bpm,
            bpm=bpm,
            key=key,
            page_url=f"https://freesound.org/s/{10_000 + i}/",
            preview_url=f"https://cdn.freesound.org/previews/0/{10_000 + i}_1-hq.mp3",
        )
        tempo, semitones = conforming._render_key(plan)  # the cache key the site uses
        row = ConformedRender(
            sound=sound, target_bpm=tempo, semitones=semitones, status="done", duration_s=out.duration_s
        )
        row.file.save(f"bench-{i}.wav", ContentFile(out.wav), save=True)
        rows.append((sound, plan))
    hits = []
    for n in range(args.hits):
        sound, plan = rows[n % len(rows)]
        started = time.perf_counter()
        row = conforming.render_request(sound=sound, plan=plan)
        hits.append(time.perf_counter() - started)
        assert row.status == "done"
    assert ConformedRender.objects.count() == len(rows)

    audio_s = statistics.median(out.duration_s for *_, out in made)
    print(
        f"Render per sample: {args.samples} generated 8-beat loops (stereo MP3, 80-160 BPM) → {SONG_BPM:g} BPM, {SONG_KEY}"
    )
    print(f"  (median rendered length {audio_s:.1f} s; machine: {os.cpu_count()} CPUs)")
    print(line("baseline: decode + WAV, no Rubber Band", baseline))
    print(line("render: decode + Rubber Band + WAV", renders))
    print(f"Cache hit ({args.hits} requests for finished renders)")
    print(line("render_request on a cached render", hits))
    print(f"  a hit costs {statistics.median(hits) / statistics.median(renders) * 100:.2f} % of a render")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
