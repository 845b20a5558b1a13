"""Issue 28.1: every render path (the page, the render task, a pack ZIP) holds the same limits: a
claimed tempo must fit the loop, a stretch stays within 0.5–2×, the output within its length and
size caps, Rubber Band within its time limit; and the render cache key holds the sound's tempo."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
import soundfile as sf
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from accounts.models import User
from fakeapis.freesound_catalogue import FreesoundCatalogue
from predictions.models import Prediction
from samples import freesound
from samples.conform import conforming, rendering
from samples.exports import pack_export_build, pack_export_request
from samples.models import ConformedRender, GenreSearch, PackExport, Sound
from samples.packs import pack_add_sound, pack_create
from samples.sounds import sound_upsert_many
from samples.tasks import conformed_render_task
from tests.predictions.factories import DonePredictionFactory
from tests.samples.conftest import add_loops
from worker.music import conform as music

needs_rubberband = pytest.mark.skipif(shutil.which("rubberband") is None, reason="needs rubberband-cli")


@pytest.fixture
def song(user: User) -> Prediction:
    return DonePredictionFactory(owner=user, tempo_bpm=96.0, key="A minor", title="Night Drive", artist="")


def _loop(fs: FreesoundCatalogue, *, bpm: int, duration: float = 3.0) -> Sound:
    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    add_loops(fs, "house", n=1, bpm=bpm, tonality="C minor", duration=duration)
    (sound,) = sound_upsert_many(results=freesound.search(query="house loop").results)
    return sound


def _conformed_zip(user: User, sound: Sound, song: Prediction) -> tuple[PackExport, zipfile.ZipFile]:
    pack = pack_create(owner=user, name="Drive")
    pack_add_sound(pack=pack, sound=sound)
    export = pack_export_request(pack=pack, contents="conformed", song=song)
    pack_export_build(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == "done", export.error
    return export, zipfile.ZipFile(io.BytesIO(export.file.read()))


def _conformed_meta(archive: zipfile.ZipFile) -> dict[str, object]:
    (sound,) = json.loads(archive.read("pack.json"))["sounds"]
    return sound["conformed"]


# --- A tempo that does not fit the loop -----------------------------------------------------------------


@needs_rubberband
def test_a_sample_claiming_999_bpm_keeps_its_timing_on_the_page_and_in_a_zip(client, user, song, fs):
    # The attack: a 3 s loop "at 999 BPM", in a pack ZIP conformed to a song. It used to be stretched
    # 16× (a 500 s, 88 MB WAV); the claimed tempo does not fit the loop, so it is not believed.
    liar = _loop(fs, bpm=999)
    client.force_login(user)

    state = client.get(reverse("samples:conform", args=[song.pk, liar.pk])).json()
    assert state["target_bpm"] is None
    assert state["description"].startswith("timing kept (its 999 BPM does not fit its length)")

    _, archive = _conformed_zip(user, liar, song)
    (wav,) = [name for name in archive.namelist() if name.endswith(".wav")]
    assert sf.info(io.BytesIO(archive.read(wav))).duration == pytest.approx(3.0, abs=0.05)


# --- One limit on every path -------------------------------------------------------------------------------


@pytest.fixture
def any_tempo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Believe any claimed tempo, so the limits behind the plausibility check are what is tested."""
    monkeypatch.setattr(music, "LOOP_BPM_RANGE", (1.0, 10_000.0))
    monkeypatch.setattr(music, "BEAT_TOLERANCE", 0.5)


@pytest.mark.usefixtures("any_tempo")
def test_a_stretch_past_2x_is_refused_by_the_page_the_task_and_the_zip(
    client, user, song, fs, monkeypatch, django_capture_on_commit_callbacks
):
    liar = _loop(fs, bpm=999)  # against a 96 BPM song: stretched 999 → 192 BPM, 5.2×
    fetched: list[str] = []

    def fetch(*, url: str) -> bytes:
        fetched.append(url)
        return b""

    monkeypatch.setattr(conforming, "preview_fetch", fetch)
    client.force_login(user)
    url = reverse("samples:conform", args=[song.pk, liar.pk])

    with django_capture_on_commit_callbacks() as sent:
        state = client.post(url).json()
    assert state["status"] == "refused"
    assert "stretch it 5.2" in state["refused"]
    assert "between 0.5× and 2×" in state["refused"]
    assert (sent, ConformedRender.objects.count()) == ([], 0)  # the page queued nothing
    wait_page = client.get(reverse("samples:conformed_download", args=[song.pk, liar.pk]))
    assert "between 0.5× and 2×" in wait_page.content.decode()

    row = ConformedRender.objects.create(
        sound=liar, source_bpm=Decimal("999"), target_bpm=Decimal("192"), semitones=0
    )
    conformed_render_task.apply(args=(row.pk,))  # a render task sent anyway (an old message, say)
    row.refresh_from_db()
    assert row.status == "failed"
    assert "between 0.5× and 2×" in row.error
    row.delete()

    _, archive = _conformed_zip(user, liar, song)  # the ZIP path: render_now
    assert not [name for name in archive.namelist() if name.endswith(".wav")]
    assert "between 0.5× and 2×" in str(_conformed_meta(archive)["error"])
    assert fetched == []  # nothing was even downloaded to render
    assert not ConformedRender.objects.filter(status="done").exists()


@needs_rubberband
def test_the_output_length_cap_holds_in_the_zip_path(user, song, fs, settings):
    settings.CONFORM_MAX_OUTPUT_SECONDS = 3.0
    loop = _loop(fs, bpm=124)  # 6 beats at 96 BPM: 3.75 s

    _, archive = _conformed_zip(user, loop, song)

    assert not [name for name in archive.namelist() if name.endswith(".wav")]
    assert "The render would last 4 s; renders are made up to 3 s" in str(_conformed_meta(archive)["error"])
    assert not ConformedRender.objects.filter(status="done").exists()


def test_the_output_limits_in_numbers(settings):
    settings.CONFORM_MAX_OUTPUT_BYTES = 5_000_000
    assert conforming.output_refusal(length_s=8.0, time_ratio=1.25) == ""
    assert "stretch it 0.40×" in conforming.output_refusal(length_s=8.0, time_ratio=0.4)
    assert "last 40 s" in conforming.output_refusal(length_s=20.0, time_ratio=2.0)  # 7 MB of WAV
    assert "only samples up to 30 s" in conforming.output_refusal(length_s=31.0, time_ratio=1.0)


@pytest.fixture
def slow_rubberband(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A `rubberband` that never finishes in time."""
    command = tmp_path / "rubberband"
    command.write_text("#!/bin/sh\nsleep 30\n")
    command.chmod(command.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(rendering, "RUBBERBAND", os.fspath(command))


@pytest.mark.usefixtures("slow_rubberband")
def test_rubberband_is_stopped_at_the_render_time_limit_in_the_zip_path_too(user, song, fs, settings):
    settings.CONFORM_TIME_LIMIT = 1
    loop = _loop(fs, bpm=124)

    _, archive = _conformed_zip(user, loop, song)

    assert "Rendering took longer than 1 s and was stopped." in str(_conformed_meta(archive)["error"])
    row = ConformedRender.objects.get()
    assert (row.status, row.error) == ("failed", "Rendering took longer than 1 s and was stopped.")


# --- The cache key -------------------------------------------------------------------------------------------


def test_a_render_is_not_reused_once_freesound_corrects_the_sounds_tempo(song, fs):
    loop = _loop(fs, bpm=124)
    before = conforming.render_request(
        sound=loop, plan=conforming.plan_for(sound=loop, grid=conforming.song_grid(song))
    )
    ConformedRender.objects.filter(pk=before.pk).update(status="done", file="renders/old.wav")

    Sound.objects.filter(pk=loop.pk).update(bpm=120)  # 6 beats in 3 s: Freesound's new tempo
    loop.refresh_from_db()
    plan = conforming.plan_for(sound=loop, grid=conforming.song_grid(song))

    assert conforming.render_find(sound=loop, plan=plan) is None
    after = conforming.render_request(sound=loop, plan=plan)
    assert after.pk != before.pk
    assert (after.source_bpm, after.target_bpm) == (Decimal("120.00"), Decimal("96.00"))
    assert (before.target_bpm, before.semitones) == (after.target_bpm, after.semitones)


@pytest.mark.django_db(transaction=True)
def test_existing_renders_get_their_tempo_in_the_key():
    before, after = [("samples", "0012_freesound_account")], [("samples", "0013_render_limits_and_expiry")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    old = old_apps.get_model("samples", "ConformedRender")
    sound = old_apps.get_model("samples", "Sound").objects.create(freesound_id=7, name="loop", duration=3.0)
    stretched = old.objects.create(sound=sound, target_bpm=96, semitones=2, source_bpm=124.0)
    kept = old.objects.create(sound=sound, target_bpm=0, semitones=2, source_bpm=None)

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps.get_model("samples", "ConformedRender")

    keys = dict(new.objects.values_list("pk", "source_bpm"))
    assert keys == {stretched.pk: Decimal("124.00"), kept.pk: Decimal("0.00")}
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
