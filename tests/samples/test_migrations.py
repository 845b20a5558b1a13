"""Data migrations of the samples app, run forwards over rows the old schema allowed."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("samples", "0004_genre_search_plural")]
AFTER = [("samples", "0005_pack_name_unique_per_owner")]


@pytest.mark.django_db(transaction=True)
def test_duplicate_pack_names_are_renamed_before_names_become_unique():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    User, Pack = old.get_model("accounts", "User"), old.get_model("samples", "Pack")
    ada, bob = User.objects.create(username="ada"), User.objects.create(username="bob")
    first = Pack.objects.create(owner=ada, name="Drums")
    second = Pack.objects.create(owner=ada, name="drums")
    third = Pack.objects.create(owner=ada, name="DRUMS")
    taken = Pack.objects.create(owner=ada, name="Drums (2)")
    bobs = Pack.objects.create(owner=bob, name="Drums")

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps.get_model("samples", "Pack")

    names = dict(new.objects.values_list("pk", "name"))
    assert names[first.pk] == "Drums"  # the oldest keeps its name
    assert names[taken.pk] == "Drums (2)"
    assert {names[second.pk], names[third.pk]} == {"drums (3)", "DRUMS (4)"}
    assert names[bobs.pk] == "Drums"  # another user's pack is not a duplicate
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_existing_samples_stages_get_the_reason_their_message_was_written_for():
    executor = MigrationExecutor(connection)
    # The other apps as they are now (a prediction's columns are today's), the samples app before.
    others = [node for node in executor.loader.graph.leaf_nodes() if node[0] != "samples"]
    before = [*others, ("samples", "0008_audio_index")]
    after = [*others, ("samples", "0009_recommendationrun_reason")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    User, Prediction = old.get_model("accounts", "User"), old.get_model("predictions", "Prediction")
    Run = old.get_model("samples", "RecommendationRun")
    owner = User.objects.create(username="ada")
    messages = {
        "throttled": "Freesound is busy (its daily rate limit is reached); samples will be retried…",
        "error": "Samples could not be fetched this time. Use “More like these” to try again.",
        "few": "Only 3 of 5 samples: Freesound has no more sounds for this genre's search…",
        "": "",
    }
    runs = {
        reason: Run.objects.create(prediction=Prediction.objects.create(owner=owner), message=message).pk
        for reason, message in messages.items()
    }

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps.get_model("samples", "RecommendationRun")

    assert {reason: new.objects.get(pk=pk).reason for reason, pk in runs.items()} == {r: r for r in runs}
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_job_rows_keep_their_rows_and_values_when_they_become_core_job_rows():
    executor = MigrationExecutor(connection)
    # The other apps as they are now (a prediction's columns are today's), the samples app before.
    others = [node for node in executor.loader.graph.leaf_nodes() if node[0] != "samples"]
    before = [*others, ("samples", "0009_recommendationrun_reason")]
    after = [*others, ("samples", "0010_job_rows")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    User, Prediction = old.get_model("accounts", "User"), old.get_model("predictions", "Prediction")
    Sound, Pack = old.get_model("samples", "Sound"), old.get_model("samples", "Pack")
    ada = User.objects.create(username="ada")
    song = Prediction.objects.create(owner=ada, source="upload", status="done")
    sound = Sound.objects.create(
        freesound_id=1, name="loop", author="bob", licence_url="http://creativecommons.org/licenses/by/4.0/",
        licence="by", page_url="https://freesound.org/s/1/", preview_url="https://cdn.freesound.org/1.mp3",
    )  # fmt: skip
    run = old.get_model("samples", "RecommendationRun").objects.create(
        prediction=song, status="failed", message="Samples could not be fetched this time."
    )
    export = old.get_model("samples", "PackExport").objects.create(
        pack=Pack.objects.create(owner=ada, name="Drums"), status="running", error="x" * 300,
        signature="abc", job_id="job-1", attempts=2, progress=40,
    )  # fmt: skip
    render = old.get_model("samples", "ConformedRender").objects.create(
        sound=sound, target_bpm="120.00", semitones=-2, status="failed", error="No preview."
    )
    index_run = old.get_model("samples", "AudioIndexRun").objects.create(
        status="stopped", job_id="job-2", total=9, analysed=4, failed=1, message="Stopped for a song."
    )

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps

    run_after = new.get_model("samples", "RecommendationRun").objects.get(pk=run.pk)
    assert (run_after.status, run_after.message) == ("failed", "Samples could not be fetched this time.")
    assert (run_after.job_id, run_after.worker, run_after.attempts) == ("", "", 0)
    export_after = new.get_model("samples", "PackExport").objects.get(pk=export.pk)
    assert (export_after.status, export_after.error, export_after.job_id) == ("running", "x" * 300, "job-1")
    assert (export_after.attempts, export_after.progress, export_after.worker) == (2, 40, "")
    render_after = new.get_model("samples", "ConformedRender").objects.get(pk=render.pk)
    assert (render_after.status, render_after.error, render_after.semitones) == ("failed", "No preview.", -2)
    index_after = new.get_model("samples", "AudioIndexRun").objects.get(pk=index_run.pk)
    assert (index_after.status, index_after.message) == ("stopped", "Stopped for a song.")
    assert (index_after.total, index_after.analysed, index_after.failed) == (9, 4, 1)
    assert index_after.created_at == index_after.started_at == index_run.started_at
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
