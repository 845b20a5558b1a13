"""The sample library page over 100,000 indexed sounds in PostgreSQL: p50 and p95 of its queries
(the facet counts and the sorted page, samples.library) and of the whole view through Django's test
client, for a set of filters and sorts, first without the library's indexes (the baseline: they are
dropped), then with them.

    .venv/bin/python bench/library.py [--sounds 100000] [--repeats 20]
        [--database-url postgres://postgres@127.0.0.1:5432/library_bench]
        [--redis-url redis://127.0.0.1:6379/6] [--reseed]

The database is created if missing, migrated, and seeded once (a second run reuses the sounds when
their number matches, unless --reseed): random names, tags (instruments, loop for 60 %), BPM (none
for 20 %), keys (none for 30 %; sharps and flats), licences, lengths, a 400-value embedding and
100 tag scores each (so the vectors are stored out of line, as real rows are), and one
finished song (124 BPM, A minor) with its backbone output. DEBUG is off (the production shape);
no Freesound key is set, so a thin view's live top-up fails at once and the page says "local index
only". The machine is shared, so compare the two columns of one run only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

ROOT = Path(__file__).resolve().parents[1]
BENCH_USER = "library-bench"
CASES = {
    "default (fit)": "",
    "search “bass”": "q=bass",
    "drums, loops": "tag=drums&kind=loop",
    "fits tempo, key mixes": "fits=1&key=mixes",
    "BPM 100–130, CC0, 2–10 s, by tempo": "bpm_min=100&bpm_max=130&licence=cc0&duration=medium&sort=tempo",
    "sounds like the song": "sort=similar",
    "newest, page 40": "sort=newest&page=40",
    "search “loop”, bass, fit": "q=loop&tag=bass&sort=fit",
}
# The indexes migration 0013 adds (dropped for the baseline, then made again).
LIBRARY_INDEXES = {
    "sound_key": 'ON "samples_sound" ("removed", "key")',
    "sound_duration": 'ON "samples_sound" ("removed", "duration")',
    "sound_tags_gin": 'ON "samples_sound" USING gin ("tags" jsonb_path_ops)',
    "sound_search_gin": 'ON "samples_sound" USING gin (to_tsvector(\'simple\', "name" || \' \' || "tags"::text))',
}


def setup(database_url: str, redis_url: str) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="sevenfour-library-"))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="sevenfour_site.settings",
        DEBUG="0",
        SECRET_KEY="library-bench-only",
        SECURE_SSL_REDIRECT="0",
        ALLOWED_HOSTS="testserver,127.0.0.1",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        VAR_DIR=str(scratch / "var"),
        MEDIA_ROOT=str(scratch / "media"),
        STATIC_ROOT=str(scratch / "static"),
        FREESOUND_API_KEY="",
        AUDIO_INDEX_ENABLED="0",
        LOG_LEVEL="WARNING",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def seed(count: int, *, again: bool = False) -> tuple[Any, Any]:
    """The bench user and song, and `count` sounds (kept when a previous run made as many, unless
    `again`)."""
    import random

    import numpy as np
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from predictions.models import Prediction
    from samples.audio_index import vector_to_bytes
    from samples.library import INSTRUMENTS
    from samples.licences import licence_from_url
    from samples.models import Sound

    user, _ = get_user_model().objects.get_or_create(username=BENCH_USER, defaults={"email": "l@example.com"})
    rng = np.random.default_rng(7)
    song, _ = Prediction.objects.get_or_create(
        owner=user,
        title="Library bench song",
        defaults={
            "status": Prediction.Status.DONE,
            "tempo_bpm": 124.0,
            "key": "A minor",
            "top_genre": "dance",
            "backbone_output": {
                "msd": rng.random(50).round(4).tolist(),
                "mtt": rng.random(50).round(4).tolist(),
                "embedding": rng.standard_normal(400).round(4).tolist(),
            },
        },
    )
    if Sound.objects.count() == count and not again:
        return user, song
    Sound.objects.all().delete()
    r = random.Random(7)
    notes = ["C", "C#", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
    words = [
        "tech",
        "house",
        "deep",
        "dusty",
        "warm",
        "analog",
        "vinyl",
        "dark",
        "bright",
        "lofi",
        "trap",
        "garage",
    ]
    licences = [
        "http://creativecommons.org/publicdomain/zero/1.0/",
        "https://creativecommons.org/licenses/by/4.0/",
        "http://creativecommons.org/licenses/by/3.0/",
        "https://creativecommons.org/licenses/by-nc/4.0/",
    ]
    # Set here (a later UPDATE of every row would leave the table twice its size), and distinct: the
    # in-process audio index catches up from the last `audio_at` it saw, so equal times re-read all.
    now = timezone.now()
    batch: list[Sound] = []
    for n in range(count):
        instrument = r.choice(INSTRUMENTS)
        tags = [instrument, r.choice(INSTRUMENTS), r.choice(words)] + (
            ["loop"] if r.random() < 0.6 else ["one-shot"]
        )
        bpm = None if r.random() < 0.2 else r.randint(60, 180)
        key = "" if r.random() < 0.3 else f"{r.choice(notes)} {r.choice(['major', 'minor'])}"
        url = r.choice(licences)
        name = f"{r.choice(words).title()} {instrument.title()} {'Loop' if 'loop' in tags else 'Hit'}"
        name += f" {bpm} BPM" if bpm else ""
        name += f" {key} {n % 40 + 1}" if key else f" {n % 40 + 1}"
        batch.append(
            Sound(
                freesound_id=1_000_000 + n,
                name=name,
                author=f"user{n % 5000}",
                licence_url=url,
                licence=licence_from_url(url),
                duration=round(r.uniform(0.2, 40.0), 2),
                tags=list(dict.fromkeys(tags)),
                bpm=bpm,
                key=key,
                page_url=f"https://freesound.org/people/u/sounds/{1_000_000 + n}/",
                preview_url=f"https://cdn.freesound.org/previews/0/{1_000_000 + n}_1-hq.mp3",
                audio_status=Sound.AudioStatus.OK,
                audio_at=now - timedelta(milliseconds=count - n),
                embedding=vector_to_bytes(rng.standard_normal(400).astype(np.float32)),
                # Tag scores in (0, 1) as the taggers give them: a constant vector would compress
                # to a few bytes and leave the row short enough to keep its embedding in line.
                tag_vector=vector_to_bytes(rng.random(100).astype(np.float32)),
            )
        )
        if len(batch) == 5000:
            Sound.objects.bulk_create(batch)
            batch = []
            print(f"  seeded {n + 1:,} sounds", file=sys.stderr)
    Sound.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM FULL ANALYZE samples_sound")
    return user, song


def set_indexes(*, present: bool) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for name, how in LIBRARY_INDEXES.items():
            if present:
                cursor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" {how}')
            else:
                cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
        cursor.execute("ANALYZE samples_sound")


def queries(song: Any, query_string: str) -> Callable[[], None]:
    """The library page's queries for one view: the facet counts (cached per index version, as
    the view does) and the sorted page."""
    from django.http import QueryDict

    from samples import library, library_facets
    from samples.forms import LibraryForm

    allowed = library.allowed_licences(allow_noncommercial=False)
    query = LibraryForm(QueryDict(query_string), allowed_licences=allowed).library_query()
    page = int(parse_qs(query_string).get("page", ["1"])[0])
    reference = library.reference_for(song)

    def run() -> None:
        sounds = library.sound_filter(query=query, reference=reference, allowed=allowed)
        facets = library_facets.cached_facet_counts(sounds, selected=query.tags)
        ordered = library.ranked(sounds, sort=query.sort, reference=reference, total=facets.total)
        list(library.paginate(ordered, number=page, total=facets.total).object_list)

    return run


def view(client: Any, url: str) -> Callable[[], None]:
    def run() -> None:
        response = client.get(url)
        assert response.status_code == 200, response.status_code

    return run


def timed(run: Callable[[], None], repeats: int) -> tuple[float, float, float]:
    """p50 and p95 after two warm-ups, and the first run's time (for the queries, with the facet
    cache empty)."""
    start = time.perf_counter()
    run()
    first = (time.perf_counter() - start) * 1000
    run()  # warm: the process index, the plan cache, the facet cache
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))], first


def measure(user: Any, song: Any, repeats: int) -> dict[str, tuple[float, ...]]:
    from django.core.cache import cache
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(user)
    base = reverse("samples:song_library", args=[song.pk])
    out: dict[str, tuple[float, ...]] = {}
    for label, query_string in CASES.items():
        cache.clear()  # the bench's own Redis database: each view starts without its facets
        q50, q95, cold = timed(queries(song, query_string), repeats)
        v50, v95, _ = timed(view(client, f"{base}?{query_string}"), repeats)
        out[label] = (q50, q95, v50, v95, cold)
        print(
            f"  {label}: queries {q50:.0f}/{q95:.0f} ms (first {cold:.0f}), view {v50:.0f}/{v95:.0f} ms",
            file=sys.stderr,
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sounds", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/library_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--reseed", action="store_true", help="replace the sounds even if as many exist")
    args = parser.parse_args()
    ensure_database(args.database_url)
    setup(args.database_url, args.redis_url)
    user, song = seed(args.sounds, again=args.reseed)
    print("baseline: without the library's indexes", file=sys.stderr)
    set_indexes(present=False)
    baseline = measure(user, song, args.repeats)
    print("with the indexes", file=sys.stderr)
    set_indexes(present=True)
    indexed = measure(user, song, args.repeats)
    print(f"\n{args.sounds:,} sounds, {args.repeats} runs each after 2 warm-ups; p50 / p95 in ms")
    print("(first: the queries' first run, with the facet cache empty)\n")
    print(
        "| view | queries, no indexes | queries, indexes | whole view, no indexes | whole view, indexes "
        "| first, no indexes | first, indexes |"
    )
    print("|---|---|---|---|---|---|---|")
    for label in CASES:
        b, i = baseline[label], indexed[label]
        print(
            f"| {label} | {b[0]:.0f} / {b[1]:.0f} | {i[0]:.0f} / {i[1]:.0f} | {b[2]:.0f} / {b[3]:.0f} "
            f"| {i[2]:.0f} / {i[3]:.0f} | {b[4]:.0f} | {i[4]:.0f} |"
        )


if __name__ == "__main__":
    main()
