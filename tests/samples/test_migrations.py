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
