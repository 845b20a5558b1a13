"""core.workers: the ML workers' answer to "is the model loaded?", asked rarely and shared."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.cache import cache

from core import workers
from core.workers import ModelReadiness


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.delete(workers.CACHE_KEY)
    yield
    cache.delete(workers.CACHE_KEY)


def answer_with(monkeypatch, replies, calls: list | None = None) -> None:
    def broadcast(command, *, reply, timeout):
        if calls is not None:
            calls.append(command)
        return replies

    monkeypatch.setattr(workers, "current_app", SimpleNamespace(control=SimpleNamespace(broadcast=broadcast)))


def test_the_answers_of_ml_workers_are_added_up_and_io_workers_left_out(monkeypatch) -> None:
    answer_with(
        monkeypatch,
        [
            {"celery@ml1": {"ml": True, "processes": 2, "ready": 2, "runtime": "onnxruntime:fp32"}},
            {"celery@ml2": {"ml": True, "processes": 2, "ready": 0, "runtime": ""}},
            {"celery@io": {"ml": False}},
        ],
    )

    assert workers.model_readiness() == ModelReadiness(
        workers=2, processes=4, ready=2, runtime="onnxruntime:fp32"
    )


def test_nobody_answering_is_zero_workers(monkeypatch) -> None:
    answer_with(monkeypatch, [])

    assert workers.model_readiness() == ModelReadiness(workers=0, processes=0, ready=0, runtime="")


def test_the_cached_answer_is_asked_once_for_many_readers(monkeypatch, settings) -> None:
    settings.WORKER_STATUS_CACHE_SECONDS = 60
    calls: list[str] = []
    answer_with(monkeypatch, [{"celery@ml": {"ml": True, "processes": 1, "ready": 0, "runtime": ""}}], calls)

    answers = [workers.model_readiness_cached() for _ in range(5)]

    assert calls == ["model_status"]
    assert answers == [ModelReadiness(workers=1, processes=1, ready=0, runtime="")] * 5


def test_a_broker_that_cannot_be_asked_gives_no_answer_and_is_asked_again(monkeypatch) -> None:
    attempts = []

    def broadcast(command, *, reply, timeout):
        attempts.append(command)
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(workers, "current_app", SimpleNamespace(control=SimpleNamespace(broadcast=broadcast)))

    assert workers.model_readiness_cached() is None
    assert workers.model_readiness_cached() is None
    assert len(attempts) == 2  # a failure is not cached
