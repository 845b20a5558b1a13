"""The queue topology (settings, "Queues and the beat schedule"): a song a user waits for runs
before background work, renders and pack ZIPs have their own queue, and every worker takes the
sweeps (issue 26 point 3, issue 28 items 1 and 3)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from types import SimpleNamespace

import pytest
from celery import signature
from django.conf import settings

from core import workers
from predictions import presenters
from samples import indexing
from sevenfour_site import ml_worker
from sevenfour_site.celery import app as celery_app
from tests.conftest import ALL_QUEUES, ROOT, running_worker, wait_until

PROCFILES = ("Procfile", "Procfile.dev", "Procfile.demo", "docker-compose.yml")


def queue_of(task_name: str) -> str:
    return celery_app.amqp.router.route({}, task_name)["queue"].name


@pytest.mark.parametrize(
    ("task_name", "queue"),
    [
        ("predictions.predict_genre", "ml"),
        ("samples.audio_index", "ml-background"),
        ("samples.build_pack_zip", "renders"),
        ("samples.render_conformed", "renders"),
        ("predictions.sweep", "sweeps"),
        ("samples.sweep_runs", "sweeps"),
        ("samples.sweep_exports", "sweeps"),
        ("predictions.render_spectrogram", "celery"),
        ("samples.recommend_for_prediction", "celery"),
        ("samples.refresh_index", "celery"),
    ],
)
def test_each_task_goes_to_its_queue(task_name, queue):
    assert queue_of(task_name) == queue


def _worker_queue_lists() -> list[list[str]]:
    lists = []
    for name in PROCFILES:
        for line in (ROOT / name).read_text().splitlines():
            if " worker " in line and "--queues" in line:
                lists.append(line.split("--queues", 1)[1].split()[0].split(","))
    return lists


def test_every_worker_takes_the_sweeps_and_songs_come_before_background_work():
    lists = _worker_queue_lists()
    assert len(lists) == 8  # Procfile 3, Procfile.dev 1, Procfile.demo 1, docker-compose.yml 3
    served = {queue for queues in lists for queue in queues}
    assert served == {"ml", "ml-background", "celery", "renders", "sweeps"}
    for queues in lists:
        assert "sweeps" in queues
        if "ml-background" in queues:
            assert queues.index("ml") < queues.index("ml-background")
            assert queues[-1] == "ml-background"
        if "renders" in queues and "celery" in queues:  # the single development worker
            assert queues.index("celery") < queues.index("renders")


def test_the_procfiles_restart_a_worker_that_exits():
    for name in ("Procfile", "Procfile.dev", "Procfile.demo"):
        for line in (ROOT / name).read_text().splitlines():
            if "celery -A" in line:
                assert "python -m sevenfour_site.supervise celery" in line, line


@pytest.mark.parametrize("redis_url", ["", "redis://127.0.0.1:6379/11"])
def test_both_brokers_consume_queues_in_the_order_given(redis_url):
    env = {**os.environ, "REDIS_URL": redis_url, "DJANGO_SETTINGS_MODULE": "sevenfour_site.settings"}
    env["SECRET_KEY"] = "x" * 50
    out = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings as s; "
         "print(s.CELERY_BROKER_TRANSPORT_OPTIONS['queue_order_strategy'])"],  # fmt: skip
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "priority"


# --- A song behind a busy background queue --------------------------------------------------------


# Two songs: in turn (kombu's default), the queue just served goes last, so a background batch would
# run between them; in the order given, both run before any.
@pytest.mark.django_db(transaction=True)
def test_songs_sent_while_background_batches_are_queued_run_before_the_rest_of_them(job_broker, monkeypatch):
    ran: list[str] = []
    busy, release = threading.Event(), threading.Event()

    def background_batch(**kwargs: object) -> None:
        ran.append("background")
        if len(ran) == 1:  # the worker is busy with the first batch when the song arrives
            busy.set()
            release.wait(30)

    def song(*, prediction_id: int, **kwargs: object) -> None:
        ran.append(f"song {prediction_id}")

    monkeypatch.setattr("samples.tasks.indexing.audio_index_run", background_batch)
    monkeypatch.setattr("predictions.tasks.jobs.prediction_run", song)
    for _ in range(4):
        assert indexing.audio_index_enqueue()

    with running_worker(queues=ALL_QUEUES.split(",")):
        assert busy.wait(30)
        signature("predictions.predict_genre", args=[7]).apply_async()
        signature("predictions.predict_genre", args=[8]).apply_async()
        release.set()
        assert wait_until(lambda: len(ran) == 6, timeout=60), ran

    # Both songs before the remaining batches. Between the two songs no order is promised: the embedded
    # broker names a message by its millisecond and a random id, so two sent in the same millisecond
    # are read in either order (kombu.transport.filesystem).
    assert ran[0] == "background"
    assert sorted(ran[1:3]) == ["song 7", "song 8"]
    assert ran[3:] == ["background", "background", "background"]


# --- The progress card while the worker is busy with background work ----------------------------


def test_an_ml_worker_names_the_jobs_it_is_running(monkeypatch):
    monkeypatch.setattr(ml_worker, "_serves_ml", True)
    state = SimpleNamespace(consumer=SimpleNamespace(pool=SimpleNamespace(info={"processes": [os.getpid()]})))
    running = SimpleNamespace(name="samples.audio_index")
    monkeypatch.setattr("celery.worker.state.active_requests", [running])

    answer = ml_worker.model_status(state)

    assert answer["active"] == ["samples.audio_index"]


def test_the_workers_answer_counts_background_jobs_only(monkeypatch):
    replies = [
        {
            "ml@a": {
                "ml": True,
                "processes": 1,
                "ready": 1,
                "runtime": "onnx",
                "active": ["samples.audio_index"],
            }
        },
        {
            "ml@b": {
                "ml": True,
                "processes": 1,
                "ready": 1,
                "runtime": "onnx",
                "active": ["predictions.predict_genre"],
            }
        },
    ]
    monkeypatch.setattr(
        workers, "current_app", SimpleNamespace(control=SimpleNamespace(broadcast=lambda *a, **k: replies))
    )

    assert workers.model_readiness().background == 1
    assert workers.background_task_names() == {"samples.audio_index"}
    assert settings.CELERY_TASK_ROUTES["samples.audio_index"]["queue"] == settings.ML_BACKGROUND_QUEUE


@pytest.mark.django_db
def test_a_waiting_song_says_the_worker_is_finishing_background_work(client, monkeypatch, settings):
    from datetime import timedelta

    from django.utils import timezone

    from tests.predictions.factories import PredictionFactory

    settings.QUEUE_NOTE_AFTER_SECONDS = 10
    readiness = workers.ModelReadiness(workers=1, processes=1, ready=1, runtime="onnx", background=1)
    monkeypatch.setattr(presenters, "model_readiness_cached", lambda: readiness)
    prediction = PredictionFactory(queued_at=timezone.now() - timedelta(seconds=30))
    client.force_login(prediction.owner)

    page = client.get(f"/predictions/{prediction.pk}/status/").content.decode()

    assert "the worker is finishing background work; your song is next" in page
