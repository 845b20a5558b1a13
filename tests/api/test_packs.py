"""/api/v1/packs/ and /api/v1/exports/: pack CRUD, sounds in packs, and the ZIP."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from samples import exports, freesound, packs, sounds
from samples.models import Pack, PackExport
from tests.api.conftest import assert_error
from tests.samples.factories import make_sound

pytestmark = pytest.mark.django_db

PACKS = "/api/v1/packs/"


@pytest.fixture
def pack(user) -> Pack:
    return packs.pack_create(owner=user, name="Drums", notes="for the intro")


@pytest.fixture
def theirs(other_user) -> Pack:
    return packs.pack_create(owner=other_user, name="Bob's")


# --- CRUD -----------------------------------------------------------------------------------------------


def test_creating_a_pack_answers_201_with_its_location(api, user):
    response = api.post(PACKS, {"name": "  Bass  "}, format="json")

    assert response.status_code == 201
    pack = Pack.objects.get(owner=user)
    assert pack.name == "Bass"
    assert response["Location"] == f"http://testserver/api/v1/packs/{pack.pk}/"
    assert response.json()["sounds"] == []


def test_a_pack_needs_a_name(api):
    error = assert_error(api.post(PACKS, {"name": "   "}, format="json"), 400, "invalid")

    assert error["field_errors"]["name"]


def test_a_name_over_100_characters_is_refused(api):
    error = assert_error(api.post(PACKS, {"name": "x" * 101}, format="json"), 400, "invalid")

    assert "100" in error["field_errors"]["name"][0]


def test_the_list_holds_only_the_users_packs_with_their_sizes(api, pack, theirs):
    packs.pack_add_sound(pack=pack, sound=make_sound())

    body = api.get(PACKS).json()

    assert body["count"] == 1
    assert body["results"][0]["name"] == "Drums"
    assert body["results"][0]["sound_count"] == 1


def test_renaming_keeps_the_notes(api, pack):
    response = api.patch(f"{PACKS}{pack.pk}/", {"name": "Drum loops"}, format="json")

    assert response.status_code == 200
    pack.refresh_from_db()
    assert (pack.name, pack.notes) == ("Drum loops", "for the intro")


def test_deleting_a_pack(api, pack):
    assert api.delete(f"{PACKS}{pack.pk}/").status_code == 204
    assert not Pack.objects.filter(pk=pack.pk).exists()


def test_other_users_packs_are_404(api, theirs):
    sound = make_sound()
    for response in [
        api.get(f"{PACKS}{theirs.pk}/"),
        api.patch(f"{PACKS}{theirs.pk}/", {"name": "mine"}, format="json"),
        api.delete(f"{PACKS}{theirs.pk}/"),
        api.post(f"{PACKS}{theirs.pk}/sounds/", {"sound_id": sound.pk}, format="json"),
        api.delete(f"{PACKS}{theirs.pk}/sounds/{sound.pk}/"),
        api.post(f"{PACKS}{theirs.pk}/export/"),
    ]:
        assert_error(response, 404, "not_found")
    assert Pack.objects.get(pk=theirs.pk).name == "Bob's"


def test_packs_need_authentication(anonymous, pack):
    assert_error(anonymous.get(PACKS), 401, "not_authenticated")
    assert_error(anonymous.post(PACKS, {"name": "x"}, format="json"), 401, "not_authenticated")


# --- Sounds ------------------------------------------------------------------------------------------


def test_adding_a_sound_is_201_then_200_when_it_is_already_there(api, pack):
    sound = make_sound()

    first = api.post(f"{PACKS}{pack.pk}/sounds/", {"sound_id": sound.pk}, format="json")
    again = api.post(f"{PACKS}{pack.pk}/sounds/", {"sound_id": sound.pk}, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert [s["id"] for s in again.json()["sounds"]] == [sound.pk]


def test_adding_a_sound_records_the_prediction_it_was_saved_from(api, user, other_user, pack):
    # Issue 26: a conformed pack ZIP renders each sound in the tempo and key of its own song.
    from tests.predictions.factories import DonePredictionFactory

    sound, song = make_sound(1), DonePredictionFactory(owner=user)
    theirs = DonePredictionFactory(owner=other_user)

    foreign = api.post(
        f"{PACKS}{pack.pk}/sounds/", {"sound_id": sound.pk, "prediction_id": theirs.pk}, format="json"
    )
    added = api.post(
        f"{PACKS}{pack.pk}/sounds/", {"sound_id": sound.pk, "prediction_id": song.pk}, format="json"
    )

    error = assert_error(foreign, 400, "invalid")
    assert error["field_errors"] == {"prediction_id": ["None of your finished predictions has this id."]}
    assert added.status_code == 201
    assert pack.items.get().song == song


def test_adding_an_unknown_sound_names_the_field(api, pack):
    error = assert_error(
        api.post(f"{PACKS}{pack.pk}/sounds/", {"sound_id": 999}, format="json"), 400, "invalid"
    )

    assert error["field_errors"] == {"sound_id": ["No sound has this id."]}


def test_a_full_pack_is_409(api, pack, monkeypatch):
    monkeypatch.setattr(packs, "PACK_MAX_ITEMS", 1)
    packs.pack_add_sound(pack=pack, sound=make_sound(1))

    response = api.post(f"{PACKS}{pack.pk}/sounds/", {"sound_id": make_sound(2).pk}, format="json")

    assert "at most 1 sounds" in assert_error(response, 409, "pack_full")["message"]


def test_removing_a_sound(api, pack):
    sound = make_sound()
    packs.pack_add_sound(pack=pack, sound=sound)

    assert api.delete(f"{PACKS}{pack.pk}/sounds/{sound.pk}/").status_code == 204
    assert not pack.items.exists()
    assert_error(api.delete(f"{PACKS}{pack.pk}/sounds/{sound.pk}/"), 404, "not_found")


# --- ZIP ------------------------------------------------------------------------------------------------


def test_an_empty_pack_has_no_zip(api, pack):
    assert "empty" in assert_error(api.post(f"{PACKS}{pack.pk}/export/"), 409, "pack_empty")["message"]


def test_the_zip_is_built_by_the_worker_and_downloaded_when_ready(
    api, pack, fs, django_capture_on_commit_callbacks, monkeypatch
):
    fs.add_sound("house loop", username="dj", licence="by4", tags=("house", "loop"), bpm=124)
    (sound,) = sounds.sound_upsert_many(results=freesound.search(query="house", page_size=150).results)
    packs.pack_add_sound(pack=pack, sound=sound)
    queued = []
    monkeypatch.setattr(
        "samples.tasks.pack_export_build_task.apply_async",
        lambda args, kwargs=None, **options: queued.append(args[0]),
    )

    with django_capture_on_commit_callbacks(execute=True):
        requested = api.post(f"{PACKS}{pack.pk}/export/")
    export = PackExport.objects.get(pack=pack)
    building = api.get(f"/api/v1/exports/{export.pk}/file/")
    exports.pack_export_build(export_id=queued[0])  # what the worker does
    status = api.get(requested["Location"]).json()
    ready = api.get(status["file_url"])

    assert requested.status_code == 202
    assert requested.json()["status"] == "pending"
    assert building.status_code == 202
    assert building["Retry-After"] == "2"
    assert status["status"] == "done"
    assert ready.status_code == 200
    assert ready["Content-Type"] == "application/zip"
    assert 'filename="Drums.zip"' in ready["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(ready.streaming_content)))
    assert json.loads(archive.read("pack.json"))["name"] == "Drums"
    assert len([n for n in archive.namelist() if n.endswith(".mp3")]) == 1


def test_asking_again_for_an_unchanged_pack_returns_the_built_zip(api, pack):
    packs.pack_add_sound(pack=pack, sound=make_sound())
    export = exports.pack_export_request(pack=pack)
    PackExport.objects.filter(pk=export.pk).update(status=PackExport.Status.DONE, file="packs/x.zip")

    response = api.post(f"{PACKS}{pack.pk}/export/")

    assert response.status_code == 200
    assert response.json()["id"] == export.pk
    assert response.json()["file_url"].endswith(f"/api/v1/exports/{export.pk}/file/")


def test_a_failed_zip_is_409_with_its_error(api, pack):
    packs.pack_add_sound(pack=pack, sound=make_sound())
    export = exports.pack_export_request(pack=pack)
    exports.pack_export_fail(export_id=export.pk, message="The ZIP could not be built; try again.")

    error = assert_error(api.get(f"/api/v1/exports/{export.pk}/file/"), 409, "export_failed")

    assert error["message"] == "The ZIP could not be built; try again."


def test_other_users_zips_are_404(api, theirs):
    packs.pack_add_sound(pack=theirs, sound=make_sound())
    export = exports.pack_export_request(pack=theirs)

    assert_error(api.get(f"/api/v1/exports/{export.pk}/"), 404, "not_found")
    assert_error(api.get(f"/api/v1/exports/{export.pk}/file/"), 404, "not_found")


def test_a_second_pack_with_the_same_name_in_any_case_is_a_field_error(api, pack):
    error = assert_error(api.post(PACKS, {"name": "DRUMS"}, format="json"), 400, "invalid")

    assert error["field_errors"]["name"] == ["You already have a pack called “DRUMS”; choose another name."]
    assert Pack.objects.count() == 1


def test_renaming_onto_another_packs_name_is_a_field_error(api, user, pack):
    other = packs.pack_create(owner=user, name="Bass")

    error = assert_error(api.patch(f"{PACKS}{other.pk}/", {"name": "drums"}, format="json"), 400, "invalid")

    assert "already have a pack" in error["field_errors"]["name"][0]
