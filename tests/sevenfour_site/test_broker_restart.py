"""Redis restarts under an I/O worker that is running a job: the worker reconnects, finishes the
job, acknowledges it, and takes the next one (issue 28, "Workers that survive broker restarts").

Before sevenfour_site.broker, the worker exited with "Unrecoverable error: AttributeError:
'NoneType' object has no attribute 'hostname'" as soon as the connection dropped. The test runs its
own redis-server on a port of its own, never the shared one.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from celery import signature

from tests.conftest import _wait_for_port, broker_configured, free_port, start_worker_process, wait_until

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


class OwnRedis:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            # Persistent, as in docker-compose.yml: what was queued or unacknowledged survives the restart.
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                str(self.folder),
            ],  # fmt: skip
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def busy(folder: Path, name: str, seconds: float) -> None:
    """A job acknowledged once done (acks_late), like the project's jobs that must survive a worker."""
    signature("tests.busy_late", args=[str(folder), name, seconds]).apply_async(queue="celery")


def test_the_io_worker_survives_a_redis_restart_mid_job_and_takes_the_next_one(own_redis, tmp_path):
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    log_path = tmp_path / "worker.log"
    worker = start_worker_process(
        own_redis.url,
        log_path,
        name="io",
        queues="celery,sweeps",
        # Two processes, one busy: the worker is also waiting on Redis for a second job when the
        # connection drops, which is the state the old crash needed (like the 4-process I/O worker).
        concurrency=2,
        extra_args=("--include", "tests.sevenfour_site.busy_tasks"),
    )
    try:
        with broker_configured(own_redis.url):
            busy(jobs, "first", 6.0)
        assert wait_until(lambda: (jobs / "first.started").exists(), timeout=60), log_path.read_text()

        client = redis.Redis.from_url(own_redis.url)
        assert client.hlen("unacked") == 1  # the running job's message, kept until it is acknowledged
        own_redis.stop()  # mid-job
        assert wait_until(lambda: "Connection to broker lost" in log_path.read_text(), timeout=20)
        own_redis.start()

        assert wait_until(lambda: (jobs / "first.done").exists(), timeout=30), log_path.read_text()[-3000:]
        assert worker.poll() is None, log_path.read_text()[-3000:]
        with broker_configured(own_redis.url):
            busy(jobs, "second", 0.1)
        assert wait_until(lambda: (jobs / "second.done").exists(), timeout=60), log_path.read_text()[-3000:]
        assert worker.poll() is None
        # The first job's late acknowledgement reached the new Redis: nothing waits to be handed out again.
        assert wait_until(lambda: not client.hlen("unacked"), timeout=10)
        assert "Unrecoverable error" not in log_path.read_text()
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=60)
