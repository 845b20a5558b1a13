"""Reads for packs: a pack and its ZIPs are found only for the pack's owner."""

from __future__ import annotations

import pytest
from django.http import Http404

from samples.models import PackExport
from samples.packs import pack_create
from samples.selectors import export_get_for_user, pack_get_for_user
from tests.predictions.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pack(user):
    return pack_create(owner=user, name="Night drive")


def test_pack_get_for_user_finds_the_users_own_pack(user, pack):
    assert pack_get_for_user(user=user, pk=pack.pk) == pack


def test_pack_get_for_user_raises_404_for_another_users_pack(pack):
    with pytest.raises(Http404):
        pack_get_for_user(user=UserFactory(), pk=pack.pk)


def test_export_get_for_user_finds_an_export_of_the_users_pack_with_the_pack(
    user, pack, django_assert_num_queries
):
    export = PackExport.objects.create(pack=pack, signature="abc")

    with django_assert_num_queries(1):
        found = export_get_for_user(user=user, pk=export.pk)
        assert found.pack.name == "Night drive"  # read with the export

    assert found == export


def test_export_get_for_user_raises_404_for_another_users_export(pack):
    export = PackExport.objects.create(pack=pack, signature="abc")

    with pytest.raises(Http404):
        export_get_for_user(user=UserFactory(), pk=export.pk)
