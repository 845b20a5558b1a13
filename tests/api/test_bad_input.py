"""Issue 18, points 11 and 12 through the API: hostile file names and unicode digits."""

from __future__ import annotations

import io

import pytest

from fakeapis.audio import sine_wav
from predictions.models import Prediction
from tests.api.conftest import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog_settings")]

URL = "/api/v1/predictions/"


def _song(name: str, seconds: float) -> io.BytesIO:
    song = io.BytesIO(sine_wav(seconds))
    song.name = name
    return song


# In memory and in a temporary file (over Django's 2.5 MB); both long enough (3 s at least).
@pytest.mark.parametrize("seconds", [4.0, 80.0])
@pytest.mark.parametrize("name", ["𝄞" * 70 + ".wav", "song." + "x" * 200])
def test_an_upload_with_a_hostile_name_is_accepted_under_a_random_one(api, user, name, seconds):
    response = api.post(URL, {"file": _song(name, seconds)}, format="multipart")

    assert response.status_code == 202, response.content
    assert name not in Prediction.objects.get(owner=user).upload.name


@pytest.mark.parametrize("seconds", [4.0, 80.0])
@pytest.mark.parametrize("name", ["..", "𝄞" * 300 + ".wav"])
def test_an_unreadable_name_is_a_400_in_the_api_shape(api, name, seconds):
    response = api.post(URL, {"file": _song(name, seconds)}, format="multipart")

    assert response.status_code == 400
    assert response.json()["error"]["message"]
    assert not Prediction.objects.exists()


def test_a_request_django_refuses_to_parse_is_a_400_in_the_api_shape(api, settings):
    # Over DATA_UPLOAD_MAX_NUMBER_FIELDS Django raises before any view: handler400 answers.
    fields = "&".join(f"f{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))

    response = api.get(f"{URL}?{fields}")

    error = assert_error(response, 400, "bad_request")
    assert error["field_errors"] is None  # null, as docs/api.md says, not {}


@pytest.mark.parametrize("value", ["²", "٣", "3135553²"])
def test_a_track_id_of_unicode_digits_is_not_found(api, value):
    response = api.post(URL, {"provider": "deezer", "track_id": value}, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["message"]


def test_a_content_length_of_unicode_digits_is_not_taken_for_a_length(api):
    # "²" is a latin-1 header value that str.isdigit() takes and int() refuses: it was a 500.
    response = api.generic(
        "POST", URL, b"x", content_type="multipart/form-data; boundary=x", CONTENT_LENGTH="²"
    )

    assert_error(response, 400, "invalid")  # read as no body: no file


@pytest.mark.parametrize("value", ["²", "٣"])
def test_catalog_pages_refuse_unicode_digit_ids(api, value):
    for url in (
        f"/api/v1/catalog/deezer/artists/{value}/albums/",
        f"/api/v1/catalog/deezer/albums/{value}/tracks/",
    ):
        response = api.get(url)
        assert response.status_code == 404, url


@pytest.mark.parametrize("value", ["²", "-1", "x"])
def test_an_offset_that_is_not_a_number_is_a_field_error(api, value):
    response = api.get("/api/v1/catalog/artists/", {"q": "daft punk", "offset": value})

    assert response.status_code == 400
    assert "offset" in response.json()["error"]["field_errors"]
