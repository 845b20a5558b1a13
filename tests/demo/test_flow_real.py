"""The demo end to end, as `make demo` runs it: the demo providers (on free ports, same code), a real
Celery worker with the real model, and the site's pages through Django's test client.

Sign in as the demo user → search the demo catalog → pick a track → the job fetches the rendered
preview and predicts → five demo samples → save them to a pack → download the pack's ZIP."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile

import pytest
import soundfile as sf
from django.urls import reverse

from demo.accounts import accounts_ensure
from demo.config import DEMO_USER
from demo.content import catalog, library
from predictions.models import Prediction
from samples.models import Pack
from samples.selectors import samples_message_for, samples_stage_status
from tests.conftest import running_worker, wait_until
from tests.samples.conftest import ensure_genre_searches

pytestmark = [
    pytest.mark.model,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("demo_settings"),
]


def _links(page: str, prefix: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(rf'href="({re.escape(prefix)}[^"]+)"', page)]


def test_catalog_pick_to_five_samples_to_a_pack_zip(client, job_broker):
    ensure_genre_searches()  # a transactional test elsewhere may have flushed the seeded rows
    accounts_ensure()
    signed_in = client.post(
        "/accounts/login/", {"username": DEMO_USER.username, "password": DEMO_USER.password}
    )
    assert signed_in.status_code == 302

    artist_page = client.get("/new/", {"q": "blue hollow"}).content.decode()
    artist = _links(artist_page, "/new/artist/deezer/")[0]
    album = _links(client.get(artist).content.decode(), "/new/album/deezer/")[0]
    album_page = client.get(album).content.decode()
    track_ids = re.findall(r'name="track_id" value="(\d+)"', album_page)
    expected = [t for t in catalog().tracks if str(t.id) == track_ids[0]][0]
    assert expected.genre in {"jazz", "blues"}  # a genre outside the model's seven

    with running_worker():
        picked = client.post(
            reverse("predictions:create_from_pick"), {"provider": "deezer", "track_id": track_ids[0]}
        )
        assert picked.status_code == 302
        prediction = Prediction.objects.get(owner__username=DEMO_USER.username)
        assert wait_until(
            lambda: Prediction.objects.get(pk=prediction.pk).is_finished, timeout=240, interval=0.5
        )
        prediction.refresh_from_db()
        assert prediction.status == Prediction.Status.DONE, prediction.error
        assert prediction.title == expected.title
        # The 30 s of rendered music went through the real analysis.
        assert prediction.tempo_bpm is not None
        assert prediction.key.endswith(("major", "minor"))
        # Samples are a stage of their own, queued when the prediction is done.
        assert wait_until(
            lambda: samples_stage_status(prediction=prediction) in {"done", "failed"},
            timeout=60,
            interval=0.5,
        )

        result = client.get(picked["Location"]).content.decode()
        assert result.count('class="sample-card') == 5, samples_message_for(prediction=prediction)
        sound_pks = re.findall(r'name="sound" value="(\d+)"', result)
        assert len(set(sound_pks)) == 5
        for pk in sound_pks:
            saved = client.post(reverse("samples:sound_save"), {"sound": pk, "pack_name": "Demo pack"})
            assert saved.status_code in (200, 302)

    pack = Pack.objects.get(owner__username=DEMO_USER.username, name="Demo pack")
    assert pack.items.count() == 5
    download = client.post(reverse("samples:pack_download", args=[pack.pk]))
    assert download.status_code == 200
    body = b"".join(download.streaming_content) if download.streaming else download.content
    archive = zipfile.ZipFile(io.BytesIO(body))
    listed = json.loads(archive.read("pack.json"))["sounds"]
    described = {s.id: s for s in library()}
    assert len(listed) == 5
    attribution = archive.read("ATTRIBUTION.txt").decode()
    for entry in listed:
        sound = described[entry["freesound_id"]]
        audio, sr = sf.read(io.BytesIO(archive.read(entry["file"])))
        assert len(audio) / sr == pytest.approx(sound.duration, abs=0.1)
        assert sound.name in attribution
        assert sound.licence != "bync"  # the demo user never opted in to non-commercial sounds
