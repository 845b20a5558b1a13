"""Pack ZIPs, opened and read: the MP3 previews, ATTRIBUTION.txt and pack.json."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.urls import reverse

from fakeapis.freesound import CC0
from samples.downloads import PreviewError, preview_fetch, preview_url_allowed
from samples.exports import pack_export_build, pack_export_request
from samples.models import PackExport, Sound
from samples.packs import pack_add_sound, pack_create
from samples.sounds import sound_upsert_many
from samples.zips import daw_filename, dedupe
from tests.samples.conftest import add_loops
from tests.samples.factories import make_sound


def open_zip(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


def test_small_pack_is_streamed_with_previews_attribution_and_json(client, user, pack_of):
    pack = pack_of(3)
    client.force_login(user)

    response = client.post(reverse("samples:pack_download", args=[pack.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert 'filename="Night drive.zip"' in response["Content-Disposition"]
    archive = open_zip(b"".join(response.streaming_content))
    assert sorted(archive.namelist()) == [
        "ATTRIBUTION.txt",
        "pack.json",
        "pad_0_90bpm.mp3",
        "pad_1_90bpm.mp3",
        "pad_2_90bpm.mp3",
    ]
    assert archive.read("pad_0_90bpm.mp3")[:3] in (b"ID3", b"RIF")  # the fake's preview bytes
    text = archive.read("ATTRIBUTION.txt").decode()
    sound = Sound.objects.get(name="pad 0.wav")
    assert (
        f'"pad 0.wav" by maker0 (https://freesound.org/people/maker0/), from Freesound: {sound.page_url} — '
        "licensed under Creative Commons Attribution 4.0 (CC BY 4.0): https://creativecommons.org/licenses/by/4.0/"
    ) in text
    assert "Creative Commons 0" in text
    meta = json.loads(archive.read("pack.json"))
    assert meta["name"] == "Night drive"
    assert meta["notes"] == "late night"
    assert [s["file"] for s in meta["sounds"]] == [
        "pad_0_90bpm.mp3",
        "pad_1_90bpm.mp3",
        "pad_2_90bpm.mp3",
    ]
    assert meta["sounds"][0]["licence"] == "CC BY"
    assert meta["sounds"][0]["url"] == sound.page_url
    assert meta["sounds"][0]["bpm"] == 90


def test_large_pack_is_built_by_the_worker_with_progress(
    client, user, pack_of, settings, django_capture_on_commit_callbacks
):
    from samples.tasks import pack_export_build_task

    settings.PACK_ZIP_STREAM_MAX_ITEMS = 2
    pack = pack_of(4)
    client.force_login(user)

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("samples:pack_download", args=[pack.pk]))
    export = PackExport.objects.get(pack=pack)
    assert response["Location"] == reverse("samples:export_detail", args=[export.pk])
    assert len(callbacks) == 1  # the task is sent after commit
    assert "Queued" in client.get(response["Location"]).content.decode()

    pack_export_build_task.apply(args=(export.pk,))

    export.refresh_from_db()
    assert export.status == PackExport.Status.DONE
    assert export.progress == 100
    status = client.get(
        reverse("samples:export_detail", args=[export.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Your ZIP is ready" in status
    download = client.get(reverse("samples:export_file", args=[export.pk]))
    assert (
        len([n for n in open_zip(b"".join(download.streaming_content)).namelist() if n.endswith(".mp3")]) == 4
    )


def test_an_unchanged_pack_reuses_its_zip_and_a_changed_one_gets_a_new_one(user, pack_of):
    pack = pack_of(2)

    first = pack_export_request(pack=pack)
    assert pack_export_request(pack=pack) == first

    pack_add_sound(
        pack=pack,
        sound=make_sound(9, licence_url=CC0),
    )
    assert pack_export_request(pack=pack) != first


def test_build_is_a_noop_when_already_claimed(user, pack_of):
    export = pack_export_request(pack=pack_of(1))
    PackExport.objects.filter(pk=export.pk).update(status=PackExport.Status.RUNNING)

    pack_export_build(export_id=export.pk)

    export.refresh_from_db()
    assert export.status == PackExport.Status.RUNNING
    assert not export.file


def test_a_sound_removed_from_freesound_is_left_out_and_listed(fs, user, pack_of):
    pack = pack_of(3)
    gone = Sound.objects.get(name="pad 1.wav")
    fs.remove_sound(gone.freesound_id)  # its preview and its API entry now answer 404
    export = pack_export_request(pack=pack)

    pack_export_build(export_id=export.pk)

    export.refresh_from_db()
    archive = open_zip(export.file.read())
    assert "pad_1_90bpm.mp3" not in archive.namelist()
    assert "[no longer on Freesound; not included]" in archive.read("ATTRIBUTION.txt").decode()
    assert json.loads(archive.read("pack.json"))["sounds"][1]["file"] is None
    gone.refresh_from_db()
    assert gone.removed


def test_other_users_exports_are_404(client, other_user, user, pack_of):
    export = pack_export_request(pack=pack_of(1))
    client.force_login(other_user)

    assert client.get(reverse("samples:export_detail", args=[export.pk])).status_code == 404
    assert client.get(reverse("samples:export_file", args=[export.pk])).status_code == 404


def test_previews_only_from_allowed_hosts(settings):
    settings.PREVIEW_ALLOW_LOOPBACK = False
    settings.FREESOUND_PREVIEW_HOSTS = ["cdn.freesound.org"]

    assert preview_url_allowed("https://cdn.freesound.org/previews/1/1_2-hq.mp3")
    assert not preview_url_allowed("http://cdn.freesound.org/previews/1/1_2-hq.mp3")
    assert not preview_url_allowed("https://evil.example/x.mp3")
    assert not preview_url_allowed("http://127.0.0.1:8000/x.mp3")
    assert not preview_url_allowed("http://169.254.169.254/latest/meta-data")
    with pytest.raises(PreviewError):
        preview_fetch(url="http://169.254.169.254/latest/meta-data")


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.freesound.org:6379/x.mp3",
        "https://cdn.freesound.org:8443/x.mp3",
        "https://cdn.freesound.org:x/",
    ],
)
def test_previews_only_on_the_standard_port(settings, url):
    """Issue 18.16: any port was allowed on an allowed host."""
    settings.PREVIEW_ALLOW_LOOPBACK = False
    settings.FREESOUND_PREVIEW_HOSTS = ["cdn.freesound.org"]

    assert preview_url_allowed("https://cdn.freesound.org:443/x.mp3")
    assert not preview_url_allowed(url)


def test_file_names_carry_bpm_and_key_and_are_safe():
    assert (
        daw_filename(name="Dusty Kick Loop.wav", bpm=96, key="A minor", suffix="wav")
        == "dusty_kick_loop_96bpm_Am.wav"
    )
    assert daw_filename(name="pad", bpm=None, key="F# major", suffix="mp3") == "pad_Fs.mp3"
    assert (
        daw_filename(name="drums: take 1?.WAV", bpm=120.4, key="", suffix="mp3") == "drums_take_1_120bpm.mp3"
    )
    assert daw_filename(name="../../etc/passwd", bpm=None, key="nonsense", suffix="mp3") == "etc_passwd.mp3"
    assert daw_filename(name="???", bpm=None, key=None, suffix="wav") == "sample.wav"
    assert dedupe(["a.mp3", "A.mp3", "a.mp3"]) == ["a.mp3", "A_2.mp3", "a_3.mp3"]


def test_pack_zip_tolerates_preview_404_when_the_api_still_has_it(fs, user):
    add_loops(fs, "kick", n=1)
    from samples import freesound

    (sound,) = sound_upsert_many(results=freesound.search(query="kick").results)
    Sound.objects.filter(pk=sound.pk).update(
        preview_url=sound.preview_url.replace("-hq", "-gone").replace("/previews/", "/nowhere/")
    )
    pack = pack_create(owner=user, name="Kicks")
    pack_add_sound(pack=pack, sound=Sound.objects.get(pk=sound.pk))
    export = pack_export_request(pack=pack)

    pack_export_build(export_id=export.pk)

    export.refresh_from_db()
    assert "kick_loop_0_124bpm.mp3" in open_zip(export.file.read()).namelist()  # refreshed URL used


def test_a_small_pack_on_a_slow_cdn_goes_to_a_worker_instead_of_outliving_the_request(
    client, user, pack_of, fs, settings
):
    """Issue 28.6: a ZIP built inside the request had no time budget, so a slow CDN made gunicorn
    kill the web process at 30 s. Now the request gives up at PACK_ZIP_REQUEST_SECONDS and a worker
    builds the ZIP, with the progress page."""
    pack = pack_of(3)
    settings.PACK_ZIP_REQUEST_SECONDS = 1.0
    fs.answer_slowly(3.0, path="/previews/", times=10)
    client.force_login(user)

    response = client.post(reverse("samples:pack_download", args=[pack.pk]), follow=True)

    export = PackExport.objects.get(pack=pack)
    assert response.redirect_chain == [(reverse("samples:export_detail", args=[export.pk]), 302)]
    assert "a worker is building your ZIP instead" in response.content.decode()


def test_a_zip_past_its_deadline_downloads_nothing_more(user, pack_of, fs):
    from samples.exports import ZipDeadline, pack_zip_write

    pack = pack_of(2)

    with pytest.raises(ZipDeadline):
        pack_zip_write(pack=pack, target=io.BytesIO(), deadline=0.0)

    assert fs.calls("/previews/") == []
