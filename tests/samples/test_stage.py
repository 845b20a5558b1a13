"""Samples as a stage of their own: started by a done prediction, run on the I/O queue, and never
able to touch the prediction or hide its analysis."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from predictions import services as prediction_services
from predictions.models import Prediction
from predictions.tasks import predict_genre_task
from samples import stage
from samples.models import GenreSearch, Recommendation, RecommendationRun
from samples.tasks import recommendations_for_prediction_task
from sevenfour_site.celery import app as celery_app
from tests.conftest import broker_configured, running_worker, wait_until
from tests.predictions.factories import DonePredictionFactory
from tests.samples.conftest import add_loops

Run = RecommendationRun.Status


def _queued_tasks(broker: Path) -> list[tuple[str, str]]:
    """(task name, queue) of every message waiting in the filesystem broker."""
    found = []
    for path in sorted((broker / "queue").iterdir()):
        message = json.loads(path.read_text())
        found.append((message["headers"]["task"], message["properties"]["delivery_info"]["routing_key"]))
    return found


@pytest.mark.django_db
def test_a_done_prediction_queues_its_samples_stage_on_the_io_queue(
    user, wav_upload, fake_predictor, filesystem_broker, django_capture_on_commit_callbacks
):
    prediction = prediction_services.prediction_create_from_upload(user=user, upload=wav_upload)

    with django_capture_on_commit_callbacks(execute=True):
        predict_genre_task.apply(args=(prediction.pk,))

    prediction.refresh_from_db()
    assert prediction.status == Prediction.Status.DONE
    assert RecommendationRun.objects.get(prediction=prediction).status == Run.PENDING
    samples_tasks = [task for task in _queued_tasks(filesystem_broker) if task[0].startswith("samples.")]
    assert samples_tasks == [(stage.RECOMMEND_TASK, "celery")]
    assert celery_app.amqp.router.route({}, stage.RECOMMEND_TASK)["queue"].name == "celery"


@pytest.mark.django_db
def test_a_failed_prediction_starts_no_samples_stage(user, text_upload, django_capture_on_commit_callbacks):
    prediction = prediction_services.prediction_create_from_upload(user=user, upload=text_upload)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        predict_genre_task.apply(args=(prediction.pk,))

    assert Prediction.objects.get(pk=prediction.pk).status == Prediction.Status.FAILED
    assert not RecommendationRun.objects.filter(prediction=prediction).exists()
    assert callbacks == []


def test_while_samples_are_found_the_page_shows_the_analysis_and_a_finding_samples_step(
    client, user, prediction
):
    stage.recommendation_run_start(prediction_id=prediction.pk)
    client.force_login(user)

    page = client.get(prediction.get_absolute_url()).content.decode()

    assert "Dance" in page  # the analysis, at once
    assert "A minor" in page
    assert "Finding samples…" in page
    assert reverse("samples:prediction_samples", args=[prediction.pk]) in page
    assert 'hx-trigger="every 1s"' in page


def test_the_polled_fragment_turns_into_the_cards_once_the_stage_is_done(client, user, fs, prediction):
    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    add_loops(fs, "house", n=10, bpm=124, licence="by4")
    stage.recommendation_run_start(prediction_id=prediction.pk)
    client.force_login(user)
    url = reverse("samples:prediction_samples", args=[prediction.pk])
    waiting = client.get(url).content.decode()

    recommendations_for_prediction_task.apply(args=(prediction.pk,))
    ready = client.get(url).content.decode()

    assert "Finding samples…" in waiting
    assert RecommendationRun.objects.get(prediction=prediction).status == Run.DONE
    assert ready.count('class="sample-card') == 5
    assert "Finding samples…" not in ready
    assert "every 1s" not in ready


def test_a_crashing_samples_stage_fails_alone_and_the_analysis_stays(client, user, prediction, monkeypatch):
    stage.recommendation_run_start(prediction_id=prediction.pk)

    def crash(**kwargs: object) -> None:
        raise RuntimeError("a bug in the samples code")

    monkeypatch.setattr(stage, "recommendations_create_for_prediction", crash)
    recommendations_for_prediction_task.apply(args=(prediction.pk,))
    client.force_login(user)
    page = client.get(prediction.get_absolute_url()).content.decode()

    run = RecommendationRun.objects.get(prediction=prediction)
    assert (run.status, run.message) == (Run.FAILED, stage.SAMPLES_FAILURE)
    prediction.refresh_from_db()
    assert (prediction.status, prediction.top_genre, prediction.error) == (
        Prediction.Status.DONE,
        "dance",
        "",
    )
    assert "Dance" in page
    assert "A minor" in page
    assert "Samples could not be fetched this time." in page
    assert "Finding samples…" not in page


def test_freesound_down_ends_the_stage_with_a_message_and_leaves_the_prediction_done(
    client, user, fs, prediction, settings
):
    settings.FREESOUND_API_URL = "http://127.0.0.1:9/apiv2"  # nothing listens on the discard port
    stage.recommendation_run_start(prediction_id=prediction.pk)

    recommendations_for_prediction_task.apply(args=(prediction.pk,))

    run = RecommendationRun.objects.get(prediction=prediction)
    assert run.status == Run.DONE
    assert "not answering" in run.message
    assert Prediction.objects.get(pk=prediction.pk).status == Prediction.Status.DONE


def test_a_duplicate_samples_message_is_a_no_op(fs, prediction):
    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    add_loops(fs, "house", n=12, bpm=124, licence="by4")
    stage.recommendation_run_start(prediction_id=prediction.pk)

    recommendations_for_prediction_task.apply(args=(prediction.pk,))
    recommendations_for_prediction_task.apply(args=(prediction.pk,))

    assert Recommendation.objects.filter(prediction=prediction).count() == 5


@pytest.mark.django_db(transaction=True)
def test_through_a_real_worker_the_prediction_is_done_before_its_samples_arrive(
    user, wav_upload, fake_predictor, fs, filesystem_broker
):
    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    add_loops(fs, "house", n=10, bpm=120, licence="by4")
    with running_worker():
        prediction = prediction_services.prediction_create_from_upload(user=user, upload=wav_upload)
        stages_done = wait_until(
            lambda: RecommendationRun.objects.filter(prediction=prediction, status=Run.DONE).exists(),
            timeout=60,
        )
    prediction.refresh_from_db()
    run = RecommendationRun.objects.get(prediction=prediction)
    assert stages_done, run
    assert prediction.status == Prediction.Status.DONE
    assert prediction.finished_at <= run.started_at <= run.finished_at
    assert Recommendation.objects.filter(prediction=prediction).count() == 5


def test_the_sweep_resends_lost_samples_stages_and_fails_stuck_ones(user, filesystem_broker, settings):
    now = timezone.now()
    lost, fresh, stuck = (DonePredictionFactory(owner=user) for _ in range(3))
    for done in (lost, fresh, stuck):
        RecommendationRun.objects.create(prediction=done)
    RecommendationRun.objects.filter(prediction=lost).update(created_at=now - timedelta(minutes=10))
    RecommendationRun.objects.filter(prediction=fresh).update(queued_at=now)
    RecommendationRun.objects.filter(prediction=stuck).update(
        status=Run.RUNNING, started_at=now - timedelta(seconds=settings.PREDICTION_STALE_AFTER + 1)
    )

    report = stage.recommendation_run_sweep(now=now)

    assert (report.requeued, report.failed) == (1, 1)
    assert _queued_tasks(filesystem_broker) == [(stage.RECOMMEND_TASK, "celery")]
    assert RecommendationRun.objects.get(prediction=lost).queued_at is not None
    failed = RecommendationRun.objects.get(prediction=stuck)
    assert (failed.status, failed.message) == (Run.FAILED, stage.SAMPLES_FAILURE)
    assert Prediction.objects.get(pk=stuck.pk).status == Prediction.Status.DONE


def test_a_broker_outage_leaves_the_samples_stage_pending_for_the_sweep(
    prediction, django_capture_on_commit_callbacks
):
    with broker_configured("redis://127.0.0.1:1/0"), django_capture_on_commit_callbacks(execute=True):
        stage.recommendation_run_start(prediction_id=prediction.pk)

    run = RecommendationRun.objects.get(prediction=prediction)
    assert (run.status, run.queued_at) == (Run.PENDING, None)
