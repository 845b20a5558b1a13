"""Issue 28, point 6: a full or read-only MEDIA_ROOT turned uploads into 500s. The page and the API
now answer 503 with a sentence and Retry-After, create nothing, and catalog picks (which store no
file) go on working."""

from __future__ import annotations

import errno
import os

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from fakeapis.audio import sine_wav
from predictions.models import Prediction

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog_settings")]
SENTENCE = "cannot store uploaded files right now (its storage is full or read-only)"


def storage_refuses(monkeypatch, code: int) -> None:
    def refuse(self, name, content):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(FileSystemStorage, "_save", refuse)


def song() -> SimpleUploadedFile:
    return SimpleUploadedFile("My Song.wav", sine_wav(3.5), content_type="audio/wav")


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_an_upload_the_storage_refuses_is_a_503_with_a_sentence_not_a_500(client, user, monkeypatch, code):
    storage_refuses(monkeypatch, code)
    client.force_login(user)

    response = client.post(reverse("predictions:create_from_upload"), {"file": song()})

    assert response.status_code == 503
    assert response["Retry-After"] == "300"
    assert SENTENCE in response.text
    assert "pick the song from the catalog instead" in response.text
    assert not Prediction.objects.exists()


def test_the_api_answers_503_storage_unavailable(user, monkeypatch):
    storage_refuses(monkeypatch, errno.ENOSPC)
    api = APIClient()
    api.force_authenticate(user)

    response = api.post("/api/v1/predictions/", {"file": song()}, format="multipart")

    assert response.status_code == 503
    assert response["Retry-After"] == "300"
    assert response.json()["error"]["code"] == "storage_unavailable"
    assert not Prediction.objects.exists()


def test_a_catalog_pick_is_kept_while_the_storage_refuses_files(client, user, monkeypatch):
    storage_refuses(monkeypatch, errno.ENOSPC)
    client.force_login(user)

    response = client.post(
        reverse("predictions:create_from_pick"), {"provider": "deezer", "track_id": "3135556"}
    )

    prediction = Prediction.objects.get(owner=user)
    assert response["Location"] == reverse("predictions:detail", args=[prediction.pk])


def test_another_input_output_error_is_not_taken_for_a_full_disk(client, user, monkeypatch):
    storage_refuses(monkeypatch, errno.EIO)
    client.force_login(user)

    with pytest.raises(OSError, match="Input/output error"):
        client.post(reverse("predictions:create_from_upload"), {"file": song()})
