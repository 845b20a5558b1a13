"""Renders in the song's tempo and key: the song's grid (user corrections first), the cache, the
task, the views, conformed pack ZIPs, and the site without Rubber Band."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf
from django.urls import reverse

from accounts.models import User
from fakeapis.freesound_catalogue import FreesoundCatalogue
from predictions.models import Prediction
from samples.conform import conforming, rendering
from samples.conform.views import byte_range
from samples.exports import pack_export_build
from samples.models import ConformedRender, GenreSearch, PackExport, Sound
from samples.packs import pack_add_sound, pack_create
from samples.services import recommendations_create_for_prediction
from samples.tasks import conformed_render_task
from tests.predictions.factories import DonePredictionFactory
from tests.samples.conftest import add_loops

needs_rubberband = pytest.mark.skipif(shutil.which("rubberband") is None, reason="needs rubberband-cli")


@pytest.fixture
def song(user: User) -> Prediction:
    return DonePredictionFactory(owner=user, tempo_bpm=96.0, key="A minor", title="Night Drive", artist="")


@pytest.fixture
def loop(fs: FreesoundCatalogue) -> Sound:
    """A 124 BPM C minor loop on the fake Freesound (its preview: 3 s of a 440 Hz tone)."""
    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    add_loops(fs, "house", n=1, bpm=124, tonality="C minor", duration=3.0)
    from samples import freesound
    from samples.sounds import sound_upsert_many

    (sound,) = sound_upsert_many(results=freesound.search(query="house loop").results)
    return sound


@pytest.fixture
def no_rubberband(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """PATH without rubberband (the other tools the site runs stay reachable)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("ffmpeg", "ffprobe"):
        if found := shutil.which(tool):
            (bin_dir / tool).symlink_to(found)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert not rendering.rubberband_available()


# --- The song's grid --------------------------------------------------------------------------------


def test_the_grid_is_laid_from_the_tempo_when_no_beats_are_stored(song):
    grid = conforming.song_grid(song)
    assert (grid.tempo_bpm, grid.key, grid.beats_measured) == (96.0, "A minor", False)
    assert grid.beat_times[:3] == [0.0, 0.625, 1.25]
    assert len(grid.beat_times) == 49  # 30 s at 96 BPM, both ends included


def test_measured_beats_are_used_when_they_agree_with_the_tempo(song):
    # As the analysis stores them: seconds from the excerpt's start, to the millisecond.
    song.beat_times = [round(0.31 + i * 0.625, 3) for i in range(40)]
    song.save(update_fields=["beat_times"])
    song.refresh_from_db()
    grid = conforming.song_grid(song)
    assert (grid.beats_measured, grid.tempo_by_user, grid.key_by_user) == (True, False, False)
    assert grid.beat_times[:2] == [0.31, 0.935]


def test_the_users_tempo_and_key_win_and_the_grid_follows_them(song):
    song.beat_times = [round(0.31 + i * 0.625, 3) for i in range(40)]
    song.user_tempo_bpm, song.user_key = 192.0, "C major"
    song.save(update_fields=["beat_times", "user_tempo_bpm", "user_key"])
    song.refresh_from_db()
    grid = conforming.song_grid(song)
    assert (grid.tempo_bpm, grid.key) == (song.song_tempo_bpm, song.song_key) == (192.0, "C major")
    assert (grid.tempo_by_user, grid.key_by_user) == (True, True)
    assert (
        not grid.beats_measured
    )  # the measured beats are at 96: the grid is laid at 192 from the first beat
    assert grid.beat_times[:2] == [0.31, 0.6225]


def test_a_corrected_key_alone_keeps_the_measured_beats(song):
    song.beat_times = [round(0.31 + i * 0.625, 3) for i in range(40)]
    song.user_key = "C major"
    song.save(update_fields=["beat_times", "user_key"])
    grid = conforming.song_grid(song)
    assert (grid.tempo_bpm, grid.key, grid.tempo_by_user, grid.key_by_user) == (96.0, "C major", False, True)
    assert grid.beats_measured


# --- The cache and the task --------------------------------------------------------------------------


@needs_rubberband
def test_a_render_is_made_once_and_reused(song, loop, monkeypatch, django_capture_on_commit_callbacks):
    renders: list[dict[str, object]] = []
    real = conforming.render

    def counted(*args: Any, **kwargs: Any) -> rendering.Rendered:
        renders.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(conforming, "render", counted)
    plan = conforming.plan_for(sound=loop, grid=conforming.song_grid(song))

    with django_capture_on_commit_callbacks() as sent:
        row = conforming.render_request(sound=loop, plan=plan)
    assert (row.status, float(row.target_bpm), row.semitones, len(sent)) == ("pending", 96.0, 2, 1)
    conformed_render_task.apply(args=(row.pk,))
    row.refresh_from_db()
    assert row.status == "done", row.error
    assert row.duration_s == pytest.approx(6 * 60 / 96, abs=0.01)  # 3 s hold 6 beats at 124 BPM

    with django_capture_on_commit_callbacks() as sent_again:
        again = conforming.render_request(sound=loop, plan=plan)
    conformed_render_task.apply(args=(row.pk,))  # a duplicate message is a no-op too
    assert again.pk == row.pk
    assert sent_again == []
    assert len(renders) == 1
    assert ConformedRender.objects.count() == 1

    # Another song at the same tempo and key shares it; one at another tempo does not.
    other = DonePredictionFactory(owner=song.owner, tempo_bpm=96.0, key="D minor")
    assert (
        conforming.render_request(
            sound=loop, plan=conforming.plan_for(sound=loop, grid=conforming.song_grid(other))
        ).pk
        == row.pk
    )


def test_a_failed_render_says_why_and_is_tried_again_on_the_next_request(
    song, fs, loop, django_capture_on_commit_callbacks
):
    fs.remove_sound(loop.freesound_id)
    plan = conforming.plan_for(sound=loop, grid=conforming.song_grid(song))
    row = conforming.render_request(sound=loop, plan=plan)
    conformed_render_task.apply(args=(row.pk,))
    row.refresh_from_db()
    assert (row.status, row.error) == ("failed", "Freesound no longer has this sound's preview.")

    with django_capture_on_commit_callbacks() as sent:
        retried = conforming.render_request(sound=loop, plan=plan)
    assert (retried.status, len(sent)) == ("pending", 1)


def test_a_too_long_sample_is_refused(song, loop, settings):
    settings.CONFORM_MAX_SECONDS = 2.0
    row = conforming.render_request(
        sound=loop, plan=conforming.plan_for(sound=loop, grid=conforming.song_grid(song))
    )
    conformed_render_task.apply(args=(row.pk,))
    row.refresh_from_db()
    assert (row.status, row.error) == (
        "failed",
        "The sample is 3 s long; only samples up to 2 s are conformed.",
    )


# --- Views ---------------------------------------------------------------------------------------------


@needs_rubberband
def test_the_player_asks_for_a_render_and_follows_it_to_the_wav(
    client, user, song, loop, django_capture_on_commit_callbacks
):
    client.force_login(user)
    url = reverse("samples:conform", args=[song.pk, loop.pk])

    with django_capture_on_commit_callbacks(execute=True):  # the task runs eagerly here
        state = client.post(url).json()
    assert state["status"] == "pending"
    assert (
        state["description"]
        == "stretched 124 → 96 BPM, +2 semitones (to D minor, a fifth below the song's key)"
    )
    conformed_render_task.apply(args=(ConformedRender.objects.get().pk,))

    state = client.get(url).json()
    assert (state["status"], state["loop_beats"], state["disabled"]) == ("done", 6, "")
    audio = client.get(state["url"], HTTP_RANGE="bytes=0-99")
    assert (audio.status_code, audio["Content-Type"], len(audio.content)) == (206, "audio/wav", 100)
    assert audio.content[:4] == b"RIFF"

    download = client.get(state["download_url"])
    assert download.status_code == 200
    assert 'filename="house_loop_0_96bpm_Dm.wav"' in download["Content-Disposition"]
    info = sf.info(io.BytesIO(b"".join(download.streaming_content)))
    assert (info.samplerate, info.subtype) == (44100, "PCM_16")


def test_the_wav_link_without_javascript_queues_nothing_and_offers_a_button_that_posts(
    client, user, song, loop, django_capture_on_commit_callbacks
):
    """Issue 28: "A GET of …/conformed.wav queues a render (a GET that changes state)"."""
    client.force_login(user)
    url = reverse("samples:conformed_download", args=[song.pk, loop.pk])
    with django_capture_on_commit_callbacks() as sent:
        page = client.get(url)
    assert (page.status_code, sent, ConformedRender.objects.count()) == (202, [], 0)
    assert b'http-equiv="refresh"' not in page.content  # nothing is on its way
    assert f'<form method="post" action="{url}">' in page.content.decode()
    assert "stretched 124 → 96 BPM" in page.content.decode()


def test_posting_the_wav_link_queues_the_render_and_the_page_then_waits_for_it(
    client, user, song, loop, django_capture_on_commit_callbacks
):
    client.force_login(user)
    url = reverse("samples:conformed_download", args=[song.pk, loop.pk])
    with django_capture_on_commit_callbacks() as sent:
        response = client.post(url)
    assert (response.status_code, response["Location"]) == (302, url)
    assert len(sent) == 1
    assert ConformedRender.objects.get().status == ConformedRender.Status.PENDING

    with django_capture_on_commit_callbacks() as sent_again:
        page = client.get(url)
    assert (page.status_code, sent_again) == (202, [])
    assert b'http-equiv="refresh"' in page.content


def test_the_wait_pages_reload_gets_a_ready_page_that_starts_the_download(
    client, user, song, loop, django_capture_on_commit_callbacks
):
    """Issue 26.9: the reload was answered with the file, which saved it but left the wait page."""
    client.force_login(user)
    url = reverse("samples:conformed_download", args=[song.pk, loop.pk])
    with django_capture_on_commit_callbacks():
        client.post(url)  # asking for the render is a POST (issue 28.1: no GET queues work)
    waiting = client.get(url)
    assert f'content="2;url={url}?waiting=1"' in waiting.content.decode()
    row = ConformedRender.objects.get(sound=loop)
    row.file.save("render.wav", io.BytesIO(b"RIFF....WAVE"), save=False)
    row.status = ConformedRender.Status.DONE
    row.save()

    ready = client.get(url + "?waiting=1")
    direct = client.get(url)

    assert ready.status_code == 200
    assert "The WAV is ready: your download starts now." in ready.content.decode()
    assert f'content="0;url={url}"' in ready.content.decode()
    assert direct.status_code == 200
    assert direct["Content-Disposition"].startswith("attachment;")


def test_other_users_songs_are_404(client, other_user, song, loop):
    client.force_login(other_user)
    assert client.post(reverse("samples:conform", args=[song.pk, loop.pk])).status_code == 404
    assert client.get(reverse("samples:conformed_download", args=[song.pk, loop.pk])).status_code == 404


def test_the_original_downloads_named_for_a_daw(client, user, loop):
    client.force_login(user)
    response = client.get(reverse("samples:original_download", args=[loop.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="house_loop_0_124bpm_Cm.mp3"'
    assert response.content[:3] in (b"ID3", b"\xff\xfb", b"RIF")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", (0, 99)),
        ("bytes=100-", (100, 999)),
        ("bytes=-10", (990, 999)),
        ("bytes=5-5000", (5, 999)),
        ("items=0-1", None),
        ("bytes=900-10", None),
    ],
)
def test_byte_ranges(header, expected):
    assert byte_range(header, 1000) == expected


# --- Without Rubber Band ----------------------------------------------------------------------------------


def test_without_rubberband_conforming_is_off_and_says_why_and_the_rest_works(
    client, user, song, fs, loop, no_rubberband, django_capture_on_commit_callbacks
):
    client.force_login(user)
    recommendations_create_for_prediction(prediction=song)
    page = client.get(song.get_absolute_url()).content.decode()
    assert "Conforming is off: this server lacks Rubber Band (the rubberband-cli package)." in page
    assert "Play with the song" not in page
    assert "Download MP3" in page  # the original still downloads

    with django_capture_on_commit_callbacks() as sent:
        state = client.post(reverse("samples:conform", args=[song.pk, loop.pk])).json()
    assert (state["status"], state["disabled"], sent) == (
        "none",
        conforming.NO_RUBBERBAND,
        [],
    )
    assert client.get(reverse("samples:conformed_download", args=[song.pk, loop.pk])).status_code == 503
    assert client.get(reverse("samples:original_download", args=[loop.pk])).status_code == 200

    pack = pack_create(owner=user, name="Drive")
    pack_add_sound(pack=pack, sound=loop)
    pack_page = client.get(pack.get_absolute_url()).content.decode()
    assert conforming.NO_RUBBERBAND in pack_page
    response = client.post(
        reverse("samples:pack_download", args=[pack.pk]),
        {"contents": "conformed", "song": song.pk},
        follow=True,
    )
    assert conforming.NO_RUBBERBAND in response.content.decode()
    originals = client.post(reverse("samples:pack_download", args=[pack.pk]))
    assert originals.status_code == 200  # the plain ZIP is unaffected


# --- Conformed pack ZIPs -------------------------------------------------------------------------------------


@needs_rubberband
@pytest.mark.parametrize("contents", ["conformed", "both"])
def test_a_pack_zip_conformed_to_a_song_names_and_records_what_was_done(
    client, user, song, fs, loop, contents, django_capture_on_commit_callbacks
):
    one_shot = fs.add_sound("snare hit.wav", username="drummer", licence="cc0", tags=("snare",), duration=0.5)
    from samples import freesound
    from samples.sounds import sound_upsert_many

    (snare,) = sound_upsert_many(results=freesound.search(query="snare").results)
    assert snare.freesound_id == one_shot.id
    pack = pack_create(owner=user, name="Drive")
    pack_add_sound(pack=pack, sound=loop)
    pack_add_sound(pack=pack, sound=snare)
    client.force_login(user)

    with django_capture_on_commit_callbacks():
        response = client.post(
            reverse("samples:pack_download", args=[pack.pk]), {"contents": contents, "song": song.pk}
        )
    export = PackExport.objects.get()
    assert response.url == reverse("samples:export_detail", args=[export.pk])
    assert (export.contents, export.song) == (contents, song)
    pack_export_build(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == "done", export.error

    archive = zipfile.ZipFile(io.BytesIO(export.file.read()))
    wavs = {"house_loop_0_96bpm_Dm.wav", "snare_hit.wav"}
    if contents == "both":
        expected = {f"conformed/{n}" for n in wavs} | {
            "originals/house_loop_0_124bpm_Cm.mp3",
            "originals/snare_hit.mp3",
        }
    else:
        expected = wavs
    assert set(archive.namelist()) == expected | {"ATTRIBUTION.txt", "pack.json"}
    wav_name = next(n for n in archive.namelist() if n.endswith("house_loop_0_96bpm_Dm.wav"))
    info = sf.info(io.BytesIO(archive.read(wav_name)))
    assert (info.samplerate, info.subtype) == (44100, "PCM_16")
    assert info.duration == pytest.approx(3.75, abs=0.01)

    text = archive.read("ATTRIBUTION.txt").decode()
    assert "conformed to “Night Drive” (96 BPM, A minor) with Rubber Band" in text
    assert (
        "[modified: stretched 124 → 96 BPM, +2 semitones (to D minor, a fifth below the song's key); house_loop_0_96bpm_Dm.wav]"
        in text
    )
    meta = json.loads(archive.read("pack.json"))
    assert meta["contents"] == contents
    assert meta["conformed_to"] == {
        "song": "Night Drive",
        "tempo_bpm": 96.0,
        "key": "A minor",
        "tool": "Rubber Band",
    }
    loop_meta = next(s for s in meta["sounds"] if s["freesound_id"] == loop.freesound_id)
    assert loop_meta["conformed"] == {
        "file": "house_loop_0_96bpm_Dm.wav",
        "tempo_bpm": 96.0,
        "key": "D minor",
        "semitones": 2,
        "done": "stretched 124 → 96 BPM, +2 semitones (to D minor, a fifth below the song's key)",
        "format": "WAV 44.1 kHz 16-bit",
    }
    assert loop_meta["file"] == ("originals/house_loop_0_124bpm_Cm.mp3" if contents == "both" else None)
    snare_meta = next(s for s in meta["sounds"] if s["freesound_id"] == snare.freesound_id)
    assert snare_meta["conformed"]["done"] == "timing kept (a one-shot), pitch kept (no key known)"
    # The renders went into the cache: the page's player reuses them.
    assert ConformedRender.objects.filter(status="done").count() == 2


def test_a_render_past_its_time_limit_fails_saying_so(song, loop, monkeypatch, settings):
    from celery.exceptions import SoftTimeLimitExceeded

    row = conforming.render_request(
        sound=loop, plan=conforming.plan_for(sound=loop, grid=conforming.song_grid(song))
    )

    def too_slow(*, render_id: int, user_id: int | None = None) -> None:
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(conforming, "render_run", too_slow)
    conformed_render_task.apply(args=(row.pk,))
    row.refresh_from_db()
    assert (row.status, row.error) == (
        "failed",
        f"Rendering took longer than {settings.CONFORM_TIME_LIMIT} s and was stopped.",
    )


def test_a_render_whose_message_was_lost_or_whose_worker_died_is_sent_again(
    song, loop, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    plan = conforming.plan_for(sound=loop, grid=conforming.song_grid(song))
    row = conforming.render_request(sound=loop, plan=plan)
    with django_capture_on_commit_callbacks() as fresh:
        conforming.render_request(sound=loop, plan=plan)
    assert fresh == []  # queued a moment ago: left alone

    ConformedRender.objects.filter(pk=row.pk).update(queued_at=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks() as lost:
        conforming.render_request(sound=loop, plan=plan)
    assert len(lost) == 1

    ConformedRender.objects.filter(pk=row.pk).update(
        status="running", started_at=timezone.now() - timedelta(minutes=10)
    )
    with django_capture_on_commit_callbacks() as dead:
        again = conforming.render_request(sound=loop, plan=plan)
    assert (len(dead), again.status) == (1, "pending")
