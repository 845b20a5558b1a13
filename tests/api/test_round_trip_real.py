"""Over the API only, with a real Celery worker and the real TensorFlow model: upload a song, poll
until it is done, read the probabilities, save a recommended sound to a pack, download the ZIP."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from samples.models import GenreSearch
from tests.conftest import running_worker, wait_until
from tests.predictions.conftest import wav_bytes
from tests.samples.conftest import add_loops

pytestmark = [pytest.mark.model, pytest.mark.django_db(transaction=True)]


def poll(api, url: str, *, done, timeout: float):
    """GET `url` until `done(body)`; returns the last body."""
    last: dict = {}

    def finished() -> bool:
        nonlocal last
        last = api.get(url).json()
        return bool(done(last))

    assert wait_until(finished, timeout=timeout, interval=0.5), last
    return last


def test_upload_poll_read_save_a_recommended_sound_and_download_the_zip(api, fs, job_broker, tmp_path):
    # Whatever genre the model hears, its Freesound search finds these loops.
    GenreSearch.objects.update(queries="house loop")
    add_loops(fs, "house", n=10, bpm=120, licence="by4")
    song = SimpleUploadedFile("chords.wav", wav_bytes(tmp_path), content_type="audio/wav")

    with running_worker():
        submitted = api.post("/api/v1/predictions/", {"file": song}, format="multipart")
        assert submitted.status_code == 202
        # The samples stage runs after the prediction is done (its own task): wait for it too.
        result = poll(
            api,
            submitted["Location"],
            done=lambda body: (
                body["finished"]
                and (body["status"] != "done" or body["samples_status"] in ("done", "failed"))
            ),
            timeout=240,
        )

        assert result["status"] == "done", result["error"]
        assert sum(p["probability"] for p in result["probabilities"]) == pytest.approx(1.0, abs=1e-3)
        assert result["top_genre"] == result["probabilities"][0]["genre"]
        assert result["tempo_bpm"] is not None
        assert result["key"].endswith(("major", "minor"))
        assert result["model_version"]
        assert result["recommendations"], result["samples_message"]

        sound = result["recommendations"][0]["sound"]
        pack = api.post("/api/v1/packs/", {"name": "From the API"}, format="json").json()
        added = api.post(f"/api/v1/packs/{pack['id']}/sounds/", {"sound_id": sound["id"]}, format="json")
        assert added.status_code == 201

        requested = api.post(f"/api/v1/packs/{pack['id']}/export/")
        assert requested.status_code == 202
        export = poll(api, requested["Location"], done=lambda body: body["status"] == "done", timeout=60)

    download = api.get(export["file_url"])
    assert download.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    listed = json.loads(archive.read("pack.json"))["sounds"]
    assert [s["freesound_id"] for s in listed] == [sound["freesound_id"]]
    assert listed[0]["file"] in archive.namelist()
    assert sound["name"] in archive.read("ATTRIBUTION.txt").decode()
