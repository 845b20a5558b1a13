"""Load benchmark: 30 uploads at once to a real site with N ML worker processes on Redis and PostgreSQL.

    .venv/bin/python bench/load.py [--workers 2] [--clips 30] [--threads 0] [--server gunicorn|runserver]
        [--database-url postgres://postgres@127.0.0.1:5432/sevenfour_bench]
        [--redis-url redis://127.0.0.1:6379/14]

What it starts (and stops): the site (gunicorn, 2 processes, or runserver) on a free local port, one
`celery worker --queues ml --concurrency N` (the model is loaded in each pool process before the
first job; the bench waits until /healthz says so) and one worker for the other queue. It creates the
database if missing, migrates it, deletes the bench user's old predictions and empties the Redis
database (use one nothing else uses). Then it posts all uploads at once through the REST API (one
thread per upload) and polls the database until every prediction is finished.

It prints clips/s (uploads / (last result - first submit)), p50 and p95 of submit -> result per job,
the CPU time the ML pool processes spent per clip (steady on a busy machine, unlike clips/s),
the peak RSS of every ML pool process (VmHWM), and checks that every job finished exactly once: one
row per upload, each done, after one attempt, and each prediction task executed once in the worker log.
The clips are synthetic 30 s WAVs, each different. No Freesound key is given, so the recommendation
stage returns at once. Beside clips/s it prints the ceiling the host's cores could give for the model's
arithmetic alone, at the fp32 GEMM throughput measured first in the same run (bench/machine.py), and
the patches the model read per clip (mean): a measured clips/s close to it is the machine's limit.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import numpy as np

if TYPE_CHECKING:
    from predictions.models import Prediction

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.inference import write_clips  # noqa: E402
from bench.machine import ceiling_clips_per_s, measure  # noqa: E402

BENCH_USER = "load-bench"
# Celery logs one "succeeded" line per executed task; prediction tasks have "predict" in their name.
SUCCEEDED = re.compile(r"Task (\S*predict\S*)\[([0-9a-f-]+)\] succeeded")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


HEALTHZ_TOKEN = "load-bench-monitor"


def model_threads(args: argparse.Namespace) -> int:
    """Model threads per ML process: --threads, else the cores shared among the processes."""
    return args.threads or max(1, (os.cpu_count() or 1) // args.workers)


def site_env(args: argparse.Namespace, media: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sevenfour_site.settings",
        "DEBUG": "0",
        "SECRET_KEY": "load-bench-only",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "MEDIA_ROOT": str(media),
        "API_THROTTLE_PREDICTIONS": "100000/hour",
        "FREESOUND_API_KEY": "",
        "HEALTHZ_TOKEN": HEALTHZ_TOKEN,  # /healthz shows the workers' report to a monitor with it
        "SEVENFOUR_MODEL_THREADS": str(model_threads(args)),
        "SEVENFOUR_MODEL_CACHE": os.environ.get("SEVENFOUR_MODEL_CACHE", str(ROOT / "var" / "models")),
        "PYTHONPATH": str(ROOT),
    }


def spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def pool_pids(main_pid: int) -> list[int]:
    try:
        return [int(pid) for pid in Path(f"/proc/{main_pid}/task/{main_pid}/children").read_text().split()]
    except OSError:
        return []


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def machine_cpu_seconds() -> float:
    """Busy CPU time of the whole machine so far, all cores (/proc/stat: everything but idle and iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def host_cpu(procs: list[subprocess.Popen]) -> dict[str, float]:
    """CPU seconds so far of each part of the host: the site, the ML worker, the I/O worker (each with
    its pool), this process (the client) and the whole machine."""
    web, ml, io = ([proc.pid, *pool_pids(proc.pid)] for proc in procs)
    return {
        "web": cpu_seconds(web),
        "ml": cpu_seconds(ml),
        "io": cpu_seconds(io),
        "client": cpu_seconds([os.getpid()]),
        "machine": machine_cpu_seconds(),
    }


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (all their threads)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def wait_for_model(base_url: str, workers: int, timeout: float, log: Path) -> float:
    import requests

    start = time.monotonic()
    wanted = f"model ready in {workers} of {workers} ML processes"
    while time.monotonic() - start < timeout:
        try:
            body = requests.get(
                f"{base_url}/healthz", headers={"Authorization": f"Bearer {HEALTHZ_TOKEN}"}, timeout=5
            ).json()
            if wanted in body["checks"]["model"]["detail"]:
                return time.monotonic() - start
        except (requests.RequestException, ValueError, KeyError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"workers not ready after {timeout} s; see {log}")


def setup_django(env: dict[str, str]) -> str:
    """Migrate, then make the bench user's API token (returns its secret) and clear its predictions."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from accounts.services import api_token_create
    from predictions.models import Prediction

    user, _ = get_user_model().objects.get_or_create(username=BENCH_USER)
    Prediction.objects.filter(owner=user).delete()
    _, secret = api_token_create(user=user, name=f"bench {time.time():.0f}")
    return secret


def submit(base_url: str, secret: str, path: Path) -> tuple[int, float]:
    import requests

    submitted = time.time()
    with path.open("rb") as audio:
        response = requests.post(
            f"{base_url}/api/v1/predictions/",
            headers={"Authorization": f"Token {secret}"},
            files={"file": (path.name, audio, "audio/wav")},
            timeout=120,
        )
    if response.status_code != 202:
        raise SystemExit(f"upload refused: {response.status_code} {response.text[:500]}")
    return response.json()["id"], submitted


def wait_for_results(ids: list[int], timeout: float) -> dict[int, Prediction]:
    from predictions.models import Prediction

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = {p.pk: p for p in Prediction.objects.filter(pk__in=ids)}
        if len(rows) == len(ids) and all(p.is_finished for p in rows.values()):
            return rows
        time.sleep(0.1)
    raise SystemExit(f"not every job finished within {timeout} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2, help="ML worker processes (default 2)")
    parser.add_argument("--clips", type=int, default=30)
    parser.add_argument("--threads", type=int, default=0, help="model threads per process (0: cores / N)")
    parser.add_argument("--server", choices=["gunicorn", "runserver"], default="gunicorn")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/sevenfour_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()

    import redis

    capacity = measure()  # before any process of the site starts, so that none competes
    ensure_database(args.database_url)
    redis.Redis.from_url(args.redis_url).flushdb()
    tmp = Path(tempfile.mkdtemp(prefix="sevenfour-load-"))
    env = site_env(args, tmp / "media")
    secret = setup_django(env)
    clips = write_clips(tmp, args.clips, "wav", first_seed=1000)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server_cmd = (
        [
            sys.executable,
            "-m",
            "gunicorn",
            "sevenfour_site.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
        ]
        if args.server == "gunicorn"
        else [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    )
    celery = [sys.executable, "-m", "celery", "-A", "sevenfour_site", "worker", "--loglevel", "INFO",
              "--without-gossip", "--without-mingle", "--pool", "prefork"]  # fmt: skip
    ml_log, io_log, web_log = tmp / "ml.log", tmp / "io.log", tmp / "web.log"
    procs = [
        spawn(server_cmd, env, web_log),
        spawn(celery + ["--queues", "ml", "--concurrency", str(args.workers), "-n", "ml@%h"], env, ml_log),
        spawn(celery + ["--queues", "celery", "--concurrency", "2", "-n", "io@%h"], env, io_log),
    ]
    try:
        ready_s = wait_for_model(base_url, args.workers, args.timeout, ml_log)
        ml_pids = pool_pids(procs[1].pid)
        cpu_before, host_before = cpu_seconds(ml_pids), host_cpu(procs)
        with ThreadPoolExecutor(max_workers=len(clips)) as pool:
            submitted = list(pool.map(lambda p: submit(base_url, secret, p), clips))
        ids = [pk for pk, _ in submitted]
        rows = wait_for_results(ids, args.timeout)
        ml_cpu_per_clip = (cpu_seconds(ml_pids) - cpu_before) / len(ids)
        host_per_clip = {k: (v - host_before[k]) / len(ids) for k, v in host_cpu(procs).items()}
        time.sleep(1.0)  # let the last "succeeded" log lines land
        rss = {pid: peak_rss_mib(pid) for pid in pool_pids(procs[1].pid)}
    finally:
        for proc in procs:
            stop(proc)

    report(args, rows, submitted, rss, ready_s, ml_log, ml_cpu_per_clip, host_per_clip, capacity)


def report(args, rows, submitted, rss, ready_s, ml_log, ml_cpu_per_clip, host_per_clip, capacity) -> None:
    from predictions.models import Prediction

    latencies = [rows[pk].finished_at.timestamp() - t0 for pk, t0 in submitted]
    first_submit = min(t0 for _, t0 in submitted)
    last_result = max(p.finished_at.timestamp() for p in rows.values())
    executions = Counter(task_id for _, task_id in SUCCEEDED.findall(ml_log.read_text(errors="replace")))
    statuses = Counter(p.status for p in rows.values())
    problems = []
    if len({pk for pk, _ in submitted}) != args.clips:
        problems.append("duplicate prediction ids")
    if statuses.get(Prediction.Status.DONE, 0) != args.clips:
        problems.append(f"statuses {dict(statuses)}")
    if any(p.attempts != 1 for p in rows.values()):
        problems.append(f"attempts {sorted(p.attempts for p in rows.values())}")
    if sum(executions.values()) != args.clips or any(n != 1 for n in executions.values()):
        problems.append(f"{sum(executions.values())} task executions logged for {len(executions)} task ids")
    load = os.getloadavg()
    print(f"site: {args.server}; ML workers: {args.workers} processes x "
          f"{model_threads(args)} threads on {os.cpu_count()} cores; "
          f"Redis + PostgreSQL")  # fmt: skip
    print(f"load average at the end: {load[0]:.2f} (above ~0.5 before the run means a busy machine)")
    print(capacity.describe())
    print(f"model ready in every process {ready_s:.1f} s after start")
    print(f"{args.clips} uploads at once: {args.clips / (last_result - first_submit):.2f} clips/s")
    read = [p.patches_read for p in rows.values() if p.patches_read]
    patches = float(np.mean(read)) if read else 5.0  # half a clip, the least the site reads, if unknown
    clip_macs = patches * capacity.macs_per_patch
    ceiling = ceiling_clips_per_s(capacity.cores, capacity.gflops, clip_macs)
    print(f"model-only ceiling: {ceiling:.2f} clips/s on {capacity.cores} cores at {capacity.gflops:.1f} "
          f"GFLOP/s each ({patches:.1f} patches read per clip, mean: {clip_macs / 1e9:.1f} GMACs)")  # fmt: skip
    print(f"submit -> result: p50 {np.percentile(latencies, 50):.2f} s, p95 {np.percentile(latencies, 95):.2f} s, "
          f"max {max(latencies):.2f} s")  # fmt: skip
    cores = os.cpu_count() or 1
    print(f"ML CPU time per clip: {ml_cpu_per_clip * 1000:.0f} ms, so at most "
          f"{cores / ml_cpu_per_clip:.1f} clips/s on {cores} cores with nothing else running")  # fmt: skip
    parts = {**host_per_clip}
    machine = parts.pop("machine")
    parts["rest of the machine"] = machine - sum(parts.values())
    print("host CPU per clip during the run, ms: "
          + ", ".join(f"{name} {1000 * seconds:.0f}" for name, seconds in parts.items())
          + f"; all {1000 * machine:.0f}, so at most {cores / machine:.1f} clips/s")  # fmt: skip
    print("peak RSS per ML pool process: " + ", ".join(f"{mib:.0f} MiB" for mib in rss.values()))
    print("every job finished exactly once" if not problems else "PROBLEMS: " + "; ".join(problems))
    print(f"logs and uploads: {ml_log.parent}")
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
