"""A song that has waited in the queue says why, when the ML workers' answer tells."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.workers import ModelReadiness
from predictions import presenters
from predictions.models import Prediction

from .factories import PredictionFactory

pytestmark = pytest.mark.django_db

BUSY = "Queued; waiting for a free worker…"


def queued(seconds_ago: float, **fields) -> Prediction:
    return PredictionFactory(queued_at=timezone.now() - timedelta(seconds=seconds_ago), **fields)


def workers_say(monkeypatch, readiness: ModelReadiness | None) -> list[int]:
    asked: list[int] = []

    def cached() -> ModelReadiness | None:
        asked.append(1)
        return readiness

    monkeypatch.setattr(presenters, "model_readiness_cached", cached)
    return asked


@pytest.mark.parametrize(
    ("readiness", "label"),
    [
        (
            ModelReadiness(workers=0, processes=0, ready=0, runtime=""),
            presenters.QUEUE_NOTE_NO_WORKER.headline,
        ),
        (ModelReadiness(workers=1, processes=2, ready=0, runtime=""), presenters.QUEUE_NOTE_LOADING.headline),
        (ModelReadiness(workers=1, processes=2, ready=1, runtime="onnxruntime:fp32"), BUSY),
        (None, BUSY),  # the broker could not be asked: nothing more is known
    ],
)
def test_a_song_queued_for_a_while_says_what_the_workers_say(monkeypatch, settings, readiness, label):
    settings.QUEUE_NOTE_AFTER_SECONDS = 10
    workers_say(monkeypatch, readiness)

    assert presenters.progress_label(queued(30)) == label


def test_a_song_queued_a_moment_ago_does_not_ask_the_workers(monkeypatch, settings):
    settings.QUEUE_NOTE_AFTER_SECONDS = 10
    asked = workers_say(monkeypatch, ModelReadiness(workers=0, processes=0, ready=0, runtime=""))

    assert presenters.progress_label(queued(2)) == BUSY
    assert asked == []


def test_the_progress_card_shows_the_headline_and_the_detail(client, monkeypatch, settings):
    settings.QUEUE_NOTE_AFTER_SECONDS = 10
    workers_say(monkeypatch, ModelReadiness(workers=0, processes=0, ready=0, runtime=""))
    prediction = queued(30)
    client.force_login(prediction.owner)

    page = client.get(f"/predictions/{prediction.pk}/status/").content.decode()

    assert "no analysis worker is answering yet" in page
    assert "If the site has just started" in page


def test_the_status_json_gives_the_whole_note(client, monkeypatch, settings):
    settings.QUEUE_NOTE_AFTER_SECONDS = 10
    workers_say(monkeypatch, ModelReadiness(workers=1, processes=1, ready=0, runtime=""))
    prediction = queued(30)
    client.force_login(prediction.owner)

    message = client.get(f"/predictions/{prediction.pk}/status.json").json()["message"]

    assert message == presenters.QUEUE_NOTE_LOADING.text


def test_a_song_waiting_for_its_retry_keeps_saying_so(monkeypatch, settings):
    settings.QUEUE_NOTE_AFTER_SECONDS = 10
    asked = workers_say(monkeypatch, ModelReadiness(workers=0, processes=0, ready=0, runtime=""))

    label = presenters.progress_label(queued(30, error="Deezer is busy."))

    assert label == "Waiting to retry: Deezer is busy."
    assert asked == []
