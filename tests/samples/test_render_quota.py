"""Issue 28.1: asking for renders and pack ZIPs is throttled per user (the pages and the API share
one count), and the bytes written for a user in a day have a quota: past it, new renders and ZIPs
are refused with a clear message and Retry-After, and a ZIP stops rendering."""

from __future__ import annotations

import io
import json
import shutil
import zipfile

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from core.ratelimit import LOCAL_CACHE
from fakeapis.freesound_catalogue import FreesoundCatalogue
from predictions.models import Prediction
from samples import freesound
from samples.exports import pack_export_build, pack_export_request
from samples.models import ConformedRender, GenreSearch, Sound
from samples.packs import pack_add_sound, pack_create
from samples.quota import QUOTA_USED_UP, quota_charge, quota_usage
from samples.sounds import sound_upsert_many
from samples.tasks import conformed_render_task
from tests.predictions.factories import DonePredictionFactory
from tests.samples.conftest import add_loops

needs_rubberband = pytest.mark.skipif(shutil.which("rubberband") is None, reason="needs rubberband-cli")


@pytest.fixture(autouse=True)
def _clean_counts() -> None:
    cache.clear()  # the throttle's and the quota's counts live in the test cache
    LOCAL_CACHE.clear()


@pytest.fixture
def song(user: User) -> Prediction:
    return DonePredictionFactory(owner=user, tempo_bpm=96.0, key="A minor", title="Night Drive", artist="")


@pytest.fixture
def loops(fs: FreesoundCatalogue) -> list[Sound]:
    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    add_loops(fs, "house", n=4, bpm=124, tonality="C minor", duration=3.0)
    return sorted(sound_upsert_many(results=freesound.search(query="house loop").results), key=lambda s: s.pk)


def _conform_url(song: Prediction, sound: Sound) -> str:
    return reverse("samples:conform", args=[song.pk, sound.pk])


# --- The throttle ---------------------------------------------------------------------------------------


def test_many_render_requests_are_throttled_with_a_message_and_retry_after(
    client, user, song, loops, settings, django_capture_on_commit_callbacks
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "renders": "3/hour"}
    client.force_login(user)

    with django_capture_on_commit_callbacks() as sent:
        answers = [client.post(_conform_url(song, sound)) for sound in loops]
        again = client.post(_conform_url(song, loops[0]))  # already on its way: not counted

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused.json()["status"] == "refused"
    assert refused.json()["refused"].startswith("You have done that too often. Try again in")
    assert int(refused["Retry-After"]) > 0
    assert (again.status_code, len(sent)) == (200, 3)
    assert ConformedRender.objects.count() == 3
    # The WAV link without JavaScript counts against the same allowance, with the throttled page.
    page = client.post(reverse("samples:conformed_download", args=[song.pk, loops[3].pk]))
    assert page.status_code == 429
    assert int(page["Retry-After"]) > 0
    assert "You have done that too often" in page.content.decode()


def test_zip_requests_are_throttled_on_the_pack_page_and_the_api_alike(
    client, user, pack_of, settings, django_capture_on_commit_callbacks
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "exports": "2/hour"}
    pack = pack_of(10)
    api = APIClient()
    api.force_authenticate(user)
    client.force_login(user)

    with django_capture_on_commit_callbacks():
        api_answers = [api.post(f"/api/v1/packs/{pack.pk}/export/").status_code for _ in range(2)]
        page = client.post(reverse("samples:pack_download", args=[pack.pk]))
        third = api.post(f"/api/v1/packs/{pack.pk}/export/")

    assert api_answers == [202, 202]
    assert page.status_code == 429
    assert int(page["Retry-After"]) > 0
    assert "You have done that too often" in page.content.decode()
    assert third.status_code == 429
    assert int(third["Retry-After"]) > 0
    assert third.json()["error"]["code"] == "throttled"


# --- The quota ------------------------------------------------------------------------------------------


@needs_rubberband
def test_past_the_quota_new_renders_and_zips_are_refused_with_a_clear_message(
    client, user, other_user, song, loops, settings, pack_of, django_capture_on_commit_callbacks
):
    settings.RENDER_QUOTA_BYTES = 300_000  # less than one 3.75 s WAV
    client.force_login(user)
    with django_capture_on_commit_callbacks():
        client.post(_conform_url(song, loops[0]))
    first = ConformedRender.objects.get()
    conformed_render_task.apply(args=(first.pk, user.pk))  # what the renders queue runs
    first.refresh_from_db()
    assert first.status == "done"
    assert first.size_bytes > 300_000
    assert quota_usage(user_id=user.pk).count == first.size_bytes

    with django_capture_on_commit_callbacks() as sent:
        refused = client.post(_conform_url(song, loops[1]))
        cached = client.post(_conform_url(song, loops[0]))  # made already: no new bytes, allowed
        zip_page = client.post(reverse("samples:pack_download", args=[pack_of(2).pk]))

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    message = refused.json()["refused"]
    assert message.startswith("You have had 0.3 MB of renders and ZIPs made in the last 24 hours")
    assert "past your allowance of 0.3 MB" in message
    assert "can still be played and downloaded" in message
    assert (cached.status_code, cached.json()["status"]) == (200, "done")
    assert zip_page.status_code == 429
    assert "past your allowance" in zip_page.content.decode()
    assert sent == []
    assert ConformedRender.objects.count() == 1
    # Someone else's allowance is their own.
    assert quota_usage(user_id=other_user.pk).allowed


@needs_rubberband
def test_a_conformed_zip_stops_rendering_once_the_quota_is_used_up(user, song, loops, settings):
    # The attack: conformed ZIPs of many sounds, each render a few MB. Past the quota, the rest of
    # the pack keeps its originals and says why.
    settings.RENDER_QUOTA_BYTES = 1_000_000
    quota_charge(user_id=user.pk, size=900_000)
    pack = pack_create(owner=user, name="Drive")
    for sound in loops[:3]:
        pack_add_sound(pack=pack, sound=sound)

    export = pack_export_request(pack=pack, contents="conformed", song=song)
    pack_export_build(export_id=export.pk)
    export.refresh_from_db()

    assert export.status == "done", export.error
    archive = zipfile.ZipFile(io.BytesIO(export.file.read()))
    conformed = [s["conformed"] for s in json.loads(archive.read("pack.json"))["sounds"]]
    assert [c.get("error", "") for c in conformed] == ["", QUOTA_USED_UP, QUOTA_USED_UP]
    assert len([n for n in archive.namelist() if n.endswith(".wav")]) == 1
    assert ConformedRender.objects.filter(status="done").count() == 1
    # The ZIP's own bytes count too.
    assert quota_usage(user_id=user.pk).count > 900_000 + export.size_bytes
