"""Pages under load: history, a result page and the status poll of a finished song, 50 clients at once,
against gunicorn and PostgreSQL in the production shape (DEBUG off), beside the same load on a baseline.

    .venv/bin/python bench/pages.py [--baseline REV] [--seconds 20] [--clients 50] [--workers 2]
        [--database-url postgres://postgres@127.0.0.1:5432/pages_bench]
        [--redis-url redis://127.0.0.1:6379/13]

For each tree (this one, then REV checked out with `git worktree add` into a temporary folder and
removed afterwards) it creates the database if missing (REV gets its own, `<name>_base`), migrates
it, collects the static files, seeds one user with 60 finished predictions, each with its
recommendations (10 sounds), a spectrogram and a stored backbone output, and 3 packs; starts
`gunicorn sevenfour_site.wsgi --workers N` on a free loopback port, and drives each page for
--seconds with --clients threads, each with its own keep-alive connection (http.client; gunicorn's
sync workers close it after each answer, as in production behind a proxy):

    history     GET /predictions/ (20 rows of 60)
    result      GET /predictions/<id>/ over the 60 songs
    revalidate  the same with the If-None-Match / If-Modified-Since a browser sends back
    status      GET /predictions/<id>/status/ as htmx polls it (HX-Request), songs finished

It prints requests/s, p50 and p95 latency, errors, and the web CPU per request: the user + system CPU
time of the gunicorn master and workers (/proc/<pid>/stat) during the page's run, divided by its
requests. CPU per request is steady on a busy machine; requests/s and latency are not (the client
shares the cores), so compare the two columns of one run only. The seeding and the site's Redis
database are emptied at the start (use one nothing else uses).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
BENCH_USER = "pages-bench"
PAGES = ("history", "result", "revalidate", "status")


# --- Seeding (runs in a subprocess inside the tree under test, so against that tree's models) ----


def seed() -> None:
    """Make the bench user's predictions, recommendations and packs; print its session cookie and
    prediction ids as JSON. Only fields that every recent revision has are written."""
    import random

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from predictions.models import Prediction
    from samples.models import Pack, PackItem, Recommendation, RecommendationRun

    rng = random.Random(7)
    user, _ = get_user_model().objects.get_or_create(username=BENCH_USER, defaults={"email": "b@example.com"})
    Prediction.objects.filter(owner=user).delete()
    Pack.objects.filter(owner=user).delete()
    sounds = [_sound(n, rng) for n in range(200)]
    genres = ["classical", "dance", "electronica", "pop", "rnb", "rock", "shoegaze"]
    ids = []
    for n in range(60):
        prediction = Prediction.objects.create(owner=user, **_prediction_fields(n, genres, rng))
        run = RecommendationRun.objects.create(prediction=prediction, status=RecommendationRun.Status.DONE)
        RecommendationRun.objects.filter(pk=run.pk).update(finished_at=timezone.now())
        for rank, sound in enumerate(rng.sample(sounds, 10)):
            Recommendation.objects.create(
                prediction=prediction, sound=sound, rank=rank, batch=rank // 5, genre=prediction.top_genre,
                matched_tempo=bool(sound.bpm), why="sounds close: synth, beat",
            )  # fmt: skip
        ids.append(prediction.pk)
    for n in range(3):
        pack = Pack.objects.create(owner=user, name=f"Pack {n}")
        for sound in rng.sample(sounds, 6):
            PackItem.objects.create(pack=pack, sound=sound)
    client = Client()
    client.force_login(user)
    print(json.dumps({"session": client.cookies["sessionid"].value, "ids": ids}))


def _sound(n: int, rng) -> Any:  # a Sound of the tree under test
    from samples.models import Sound

    sound, _ = Sound.objects.update_or_create(
        freesound_id=900_000 + n,
        defaults={
            "name": f"loop {n} {rng.choice(['kick', 'pad', 'hat', 'bass'])}.wav",
            "author": f"author{n}",
            "licence_url": "https://creativecommons.org/licenses/by/4.0/",
            "duration": 8.0,
            "bpm": rng.choice([None, 90, 120, 124, 128]),
            "key": rng.choice(["", "A minor", "C major", "F# minor"]),
            "page_url": f"https://freesound.org/people/author{n}/sounds/{900_000 + n}/",
            "preview_url": f"https://cdn.freesound.org/previews/0/{900_000 + n}_1-hq.mp3",
            "image_url": f"https://cdn.freesound.org/displays/0/{900_000 + n}_wave_M.png",
        },
    )
    return sound


def _prediction_fields(n: int, genres: list[str], rng) -> dict[str, object]:
    from django.utils import timezone

    scores = [rng.random() for _ in genres]
    total = sum(scores)
    genre_scores = {g: round(s / total, 4) for g, s in zip(genres, scores, strict=True)}
    top = max(genre_scores, key=genre_scores.__getitem__)
    tempo = round(rng.uniform(70, 170), 1)
    return {
        "source": "deezer",
        "source_track_id": str(3_000_000 + n),
        "title": f"Song number {n}",
        "artist": f"Artist {n % 13}",
        "album": f"Album {n % 7}",
        "artwork_url": f"https://cdn-images.dzcdn.net/images/cover/{n:032x}/120x120.jpg",
        "status": "done",
        "finished_at": timezone.now(),
        "genre_scores": genre_scores,
        "top_genre": top,
        "confidence": genre_scores[top],
        "tags": [[f"tag{i}", round(rng.random(), 3)] for i in range(10)],
        "tempo_bpm": tempo,
        "tempo_confidence": round(rng.random(), 2),
        "key": rng.choice(["A minor", "C major", "F# minor", "E♭ major"]),
        "key_confidence": round(rng.random(), 2),
        "key_alternatives": ["C major", "E minor"],
        "beat_times": [round(i * 60 / tempo, 3) for i in range(int(tempo / 2))],
        "spectrogram": f"spectrograms/2025/01/bench-{n}.png",
        "excerpt_s": 15.0,
        "model_name": "sevenfour-zeroshot",
        "model_version": "1.0.0",
        "timings": {"download": 0.4, "analyse": 2.1},
        "backbone_output": {
            "msd": [round(rng.random(), 6) for _ in range(50)],
            "mtt": [round(rng.random(), 6) for _ in range(50)],
            "embedding": [round(rng.uniform(-1, 1), 5) for _ in range(200)],
        },
    }


# --- The site ---------------------------------------------------------------------------------------


@dataclass
class Site:
    tree: Path
    label: str
    database_url: str
    redis_url: str
    workers: int
    scratch: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="sevenfour-pages-")))
    proc: subprocess.Popen | None = None
    port: int = 0

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "sevenfour_site.settings",
            "DEBUG": "0",
            "SECRET_KEY": "pages-bench-only",
            "SECURE_SSL_REDIRECT": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "VAR_DIR": str(self.scratch / "var"),
            "MEDIA_ROOT": str(self.scratch / "media"),
            "STATIC_ROOT": str(self.scratch / "static"),
            "FREESOUND_API_KEY": "",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(self.tree),
        }

    def prepare(self) -> dict:
        ensure_database(self.database_url)
        env = self.env()
        for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
            run([sys.executable, "manage.py", *command, "-v", "0"], self.tree, env)
        out = run([sys.executable, str(Path(__file__).resolve()), "--seed"], self.tree, env)
        return json.loads(out.strip().splitlines()[-1])

    def start(self) -> None:
        import redis

        redis.Redis.from_url(self.redis_url).flushdb()
        self.port = free_port()
        command = [sys.executable, "-m", "gunicorn", "sevenfour_site.wsgi", "--bind", f"127.0.0.1:{self.port}",
                   "--workers", str(self.workers)]  # fmt: skip
        log = (self.scratch / "web.log").open("ab")
        self.proc = subprocess.Popen(
            command,
            cwd=self.tree,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if len(self.pids()) > self.workers:
                try:
                    get(self.port, "/healthz", {})
                    return
                except OSError:
                    pass
            time.sleep(0.3)
        raise SystemExit(f"gunicorn did not start; see {self.scratch / 'web.log'}")

    def pids(self) -> list[int]:
        assert self.proc is not None
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            return []
        return [self.proc.pid, *map(int, children)]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        shutil.rmtree(self.scratch, ignore_errors=True)


def run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed in {cwd}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def ensure_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (fields 14 and 15 of /proc/<pid>/stat)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


# --- The load ---------------------------------------------------------------------------------------


def get(port: int, path: str, headers: dict[str, str], conn: http.client.HTTPConnection | None = None):
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    return response, body


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    cpu_s: float
    bytes_mean: float

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")

    def row(self) -> str:
        if not self.requests:
            return "no requests"
        return (
            f"{self.requests / self.seconds:.0f} rps, p50 {1000 * self.percentile(50):.0f} ms, "
            f"p95 {1000 * self.percentile(95):.0f} ms, web CPU {1000 * self.cpu_s / self.requests:.1f} ms/req, "
            f"{self.bytes_mean / 1024:.1f} KB" + (f", {self.errors} errors" if self.errors else "")
        )


def requests_for(page: str, seeded: dict, port: int) -> list[tuple[str, dict[str, str]]]:
    """The (path, headers) a client cycles through for one page; a revalidation carries the
    validators a first answer gave (none when the site gives none)."""
    cookie = {"Cookie": f"sessionid={seeded['session']}"}
    # A browser keeps the CSRF cookie the first page set; without it every answer would set a new one.
    first, _ = get(port, "/predictions/", cookie)
    csrf = next(
        (c.split(";")[0] for c in first.headers.get_all("Set-Cookie") or [] if c.startswith("csrftoken=")), ""
    )
    if csrf:
        cookie = {"Cookie": f"sessionid={seeded['session']}; {csrf}"}
    if page == "history":
        return [("/predictions/", cookie)]
    if page == "status":
        return [(f"/predictions/{pk}/status/", {**cookie, "HX-Request": "true"}) for pk in seeded["ids"]]
    paths = [f"/predictions/{pk}/" for pk in seeded["ids"]]
    if page == "result":
        return [(path, cookie) for path in paths]
    revalidations = []
    for path in paths:
        response, _ = get(port, path, cookie)
        validators = {"ETag": "If-None-Match", "Last-Modified": "If-Modified-Since"}
        sent = {
            ask: response.getheader(given) for given, ask in validators.items() if response.getheader(given)
        }
        revalidations.append((path, {**cookie, **sent}))
    return revalidations


def drive(site: Site, page: str, seeded: dict, clients: int, seconds: float) -> Result:
    plan = requests_for(page, seeded, site.port)
    for path, headers in plan:  # warm: templates compiled, caches filled, connections open
        get(site.port, path, headers)
    latencies: list[float] = []
    sizes: list[int] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=30)
        mine, sized, failed, n = [], [], 0, offset
        while time.monotonic() < stop_at:
            path, headers = plan[n % len(plan)]
            n += 1
            started = time.monotonic()
            try:
                response, body = get(site.port, path, headers, conn)
                if response.status not in (200, 304):
                    failed += 1
            except (OSError, http.client.HTTPException):
                failed += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=30)
                continue
            mine.append(time.monotonic() - started)
            sized.append(len(body))
        with lock:
            latencies.extend(mine)
            sizes.extend(sized)
            errors[0] += failed

    pids = site.pids()
    cpu_before, started = cpu_seconds(pids), time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed, cpu = time.monotonic() - started, cpu_seconds(pids) - cpu_before
    mean_size = sum(sizes) / len(sizes) if sizes else 0.0
    return Result(len(latencies) + errors[0], errors[0], elapsed, latencies, cpu, mean_size)


def measure(site: Site, args: argparse.Namespace) -> dict[str, Result]:
    print(f"[{site.label}] preparing {site.tree}", flush=True)
    seeded = site.prepare()
    site.start()
    try:
        results = {}
        for page in PAGES:
            results[page] = drive(site, page, seeded, args.clients, args.seconds)
            print(f"[{site.label}] {page}: {results[page].row()}", flush=True)
        return results
    finally:
        site.stop()


def baseline_tree(rev: str) -> tuple[Path, str]:
    folder = Path(tempfile.mkdtemp(prefix="sevenfour-pages-base-")) / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", str(folder), rev], cwd=ROOT, check=True,
                   capture_output=True)  # fmt: skip
    return folder, short_rev(folder)


def short_rev(tree: Path) -> str:
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=tree, capture_output=True, text=True
    ).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", help="a commit to run the same load against, e.g. main")
    parser.add_argument("--seconds", type=float, default=20.0, help="per page (default 20)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/pages_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        # Import the tree under test (PYTHONPATH), never a module of bench/ that shadows a name.
        here = Path(__file__).resolve().parent
        sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
        seed()
        return

    load_before = os.getloadavg()[0]
    columns: dict[str, dict[str, Result]] = {}
    if args.baseline:
        tree, rev = baseline_tree(args.baseline)
        try:
            site = Site(tree, f"baseline {rev}", args.database_url + "_base", args.redis_url, args.workers)
            columns[site.label] = measure(site, args)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
            shutil.rmtree(tree.parent, ignore_errors=True)
    site = Site(ROOT, f"this tree {short_rev(ROOT)}", args.database_url, args.redis_url, args.workers)
    columns[site.label] = measure(site, args)

    print()
    print(f"{args.clients} clients, {args.seconds:g} s per page, gunicorn --workers {args.workers} (sync), "
          f"PostgreSQL, DEBUG off; {os.cpu_count()} cores; load average {load_before:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after")  # fmt: skip
    print()
    print("| page | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for page in PAGES:
        print(f"| {page} | " + " | ".join(results[page].row() for results in columns.values()) + " |")


if __name__ == "__main__":
    main()
