"""Redis down (cache and broker on a port where nothing listens): sign-in, catalog search, pick and
uploads keep working. Caches fail open, rate limits degrade, jobs wait for the sweep."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from core.ratelimit import LOCAL_CACHE
from fakeapis.audio import sine_wav
from predictions.models import Prediction
from tests.conftest import broker_configured, free_port

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog_settings")]
PASSWORD = "a-long-pass-123"


@pytest.fixture
def redis_down(settings):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": dead,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    LOCAL_CACHE.clear()
    with broker_configured(dead):
        yield dead


@pytest.fixture
def ada(django_user_model):
    return django_user_model.objects.create_user("ada", password=PASSWORD)


@pytest.fixture
def user(ada):
    """The shared `signed_in` client signs in as ada."""
    return ada


def test_sign_in_works(redis_down, ada):
    response = Client().post(reverse("accounts:login"), {"username": "ada", "password": PASSWORD})
    assert response.status_code == 302


def test_catalog_search_on_the_page_and_in_the_api_works(redis_down, ada, signed_in):
    page = signed_in.get(reverse("catalog:new"), {"q": "daft", "provider": "deezer"})
    assert page.status_code == 200
    assert "Daft Punk" in page.content.decode()

    api = APIClient()
    api.force_authenticate(ada)
    assert api.get("/api/v1/catalog/artists/", {"q": "daft", "provider": "deezer"}).status_code == 200


def test_a_pick_is_saved_and_waits_for_the_queue(
    redis_down, ada, signed_in, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(
            reverse("predictions:create_from_pick"), {"provider": "deezer", "track_id": "3135556"}
        )
    assert response.status_code == 302
    prediction = Prediction.objects.get(owner=ada)
    assert (prediction.status, prediction.queued_at) == (Prediction.Status.PENDING, None)  # for the sweep


def test_uploads_on_the_page_and_in_the_api_are_saved(
    redis_down, ada, signed_in, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        page = signed_in.post(
            reverse("predictions:create_from_upload"),
            {"file": SimpleUploadedFile("song.wav", sine_wav(seconds=5), content_type="audio/wav")},
        )
        api = APIClient()
        api.force_authenticate(ada)
        response = api.post(
            "/api/v1/predictions/",
            {"file": SimpleUploadedFile("song.wav", sine_wav(seconds=5), content_type="audio/wav")},
            format="multipart",
        )
    assert page.status_code == 302
    assert response.status_code == 202, response.content[:300]
    assert Prediction.objects.filter(owner=ada, status=Prediction.Status.PENDING).count() == 2
