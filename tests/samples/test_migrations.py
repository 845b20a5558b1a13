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
