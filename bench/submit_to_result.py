"""Time from submitting an uploaded 30 s clip to its finished result page, with a warm worker.

Starts its own world in a temporary folder (SQLite, media, and the filesystem broker unless
REDIS_URL is set), one real Celery worker process running the real model, submits one clip to
warm it up, then N more one at a time, and prints the median and p95 of submit → result page.

    .venv/bin/python bench/submit_to_result.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def configure_environment(scratch: Path) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "sevenfour_site.settings",
            "DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{scratch / 'bench.sqlite3'}",
            "MEDIA_ROOT": str(scratch / "media"),
            "LOG_LEVEL": "WARNING",
            "ALLOWED_HOSTS": "testserver",
        }
    )
    if not os.environ.get("REDIS_URL"):
        # settings.py puts the filesystem broker under var/; keep the bench's queue apart from a dev site's.
        os.environ["VAR_DIR"] = str(scratch)


def clip_bytes(scratch: Path, seconds: float = 30.0) -> bytes:
    import numpy as np
    import soundfile as sf

    sr = 44100
    t = np.arange(int(seconds * sr)) / sr
    rng = np.random.default_rng(7)
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.18, 329.63)) / 3
    beat = (np.sin(2 * np.pi * 2 * t) > 0.95).astype(float) * rng.normal(0, 0.5, t.size)
    path = scratch / "clip.wav"
    sf.write(path, (0.3 * chord + 0.3 * beat).astype("float32"), sr)
    return path.read_bytes()


def start_worker(log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "celery", "-A", "sevenfour_site", "worker", "--pool", "prefork",
               "--concurrency", "1", "--queues", "ml,celery,sweeps,renders,ml-background", "--loglevel", "WARNING"]  # fmt: skip
    return subprocess.Popen(
        command, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )


def submit_and_wait(user, audio: bytes, client) -> float:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import transaction

    from predictions.models import Prediction
    from predictions.services import prediction_create_from_upload

    start = time.perf_counter()
    with transaction.atomic():
        prediction = prediction_create_from_upload(user=user, upload=SimpleUploadedFile("clip.wav", audio))
    while True:
        status = Prediction.objects.values_list("status", flat=True).get(pk=prediction.pk)
        if status in (Prediction.Status.DONE, Prediction.Status.FAILED):
            break
        time.sleep(0.02)
    response = client.get(prediction.get_absolute_url())
    elapsed = time.perf_counter() - start
    if status != Prediction.Status.DONE or response.status_code != 200:
        raise SystemExit(
            f"prediction {prediction.pk} ended {status}: {Prediction.objects.get(pk=prediction.pk).error}"
        )
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sevenfour-bench-") as tmp:
        scratch = Path(tmp)
        configure_environment(scratch)
        import django

        django.setup()
        from django.core.management import call_command
        from django.test import Client

        from accounts.models import User

        call_command("migrate", verbosity=0)
        user = User.objects.create_user("bench", password="bench-pass-123")
        client = Client()
        client.force_login(user)
        audio = clip_bytes(scratch)
        worker = start_worker(scratch / "worker.log")
        try:
            warm = submit_and_wait(user, audio, client)
            times = [submit_and_wait(user, audio, client) for _ in range(args.runs)]
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=60)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        from django.conf import settings

        print(
            f"broker: {settings.CELERY_BROKER_URL.split(':')[0]}, database: SQLite, clip: 30 s WAV 44.1 kHz"
        )
        print(f"first (cold worker): {warm * 1000:.0f} ms")
        print(f"warm, {args.runs} runs: median {statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
              f"min {times[0] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
