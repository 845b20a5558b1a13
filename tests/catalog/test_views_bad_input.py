"""Issue 18, points 11 and 12: hostile file names and ids on the New prediction page.

Before: a 4-byte UTF-8 name gave 500 (the temporary file's name was over 255 bytes), `..` or a
name too long for a multipart header gave a bare 400 page, and "²" (isdigit() but not int()) gave
500 on pick, /new/artist/, /new/preview/ and ?offset=.
"""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from predictions.models import Prediction
from tests.fakes.audio import sine_wav

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog_settings")]

UNICODE_DIGITS = ["²", "٣", "１２", "3135553²", "1\n"]


@pytest.fixture
def signed_in(client, user):  # type: ignore[no-untyped-def]
    client.force_login(user)
    return client


def _upload(client, name: str, seconds: float):  # type: ignore[no-untyped-def]
    song = io.BytesIO(sine_wav(seconds))
    song.name = name
    return client.post(reverse("catalog:upload"), {"file": song})


# 80 s of WAV is 3.5 MB: over Django's 2.5 MB in-memory limit, so it goes to a temporary file.
@pytest.mark.parametrize("seconds", [1.0, 80.0])
@pytest.mark.parametrize(
    "name", ["𝄞" * 70 + ".wav", "song." + "𝄞" * 70, "song." + "x" * 200, "ünïcödé_söng.wav"]
)
def test_any_file_name_is_accepted_and_kept_off_the_disk(signed_in, user, name, seconds):
    response = _upload(signed_in, name, seconds)

    prediction = Prediction.objects.get(owner=user)
    assert response.status_code == 302
    assert name not in prediction.upload.name
    assert prediction.upload.name.endswith(".wav")


@pytest.mark.parametrize("seconds", [1.0, 80.0])
@pytest.mark.parametrize("name", ["..", "𝄞" * 300 + ".wav"])
def test_an_unreadable_name_gets_a_page_that_says_what_to_do(signed_in, name, seconds):
    response = _upload(signed_in, name, seconds)

    assert response.status_code == 400
    text = response.content.decode()
    assert "give it a short plain name" in text or "This field is required" in text
    assert "<h1>Bad Request (400)</h1>" not in text
    assert not Prediction.objects.exists()


@pytest.mark.parametrize("value", UNICODE_DIGITS)
def test_pick_refuses_unicode_digits_clearly(signed_in, value):
    response = signed_in.post(reverse("catalog:pick"), {"provider": "deezer", "track_id": value})

    assert response.status_code == 404
    assert not Prediction.objects.exists()


@pytest.mark.parametrize("value", UNICODE_DIGITS)
def test_artist_and_album_pages_refuse_unicode_digits(signed_in, value):
    for name in ("catalog:artist", "catalog:album"):
        response = signed_in.get(reverse(name, args=["deezer", value]))
        assert response.status_code == 404, name


@pytest.mark.parametrize("value", UNICODE_DIGITS)
def test_preview_refuses_unicode_digits(signed_in, value):
    response = signed_in.get(reverse("catalog:preview", args=["deezer", value]))

    assert response.status_code == 404


@pytest.mark.parametrize("value", ["²", "٣٣", "-1", "1e3", "9" * 40])
def test_a_strange_offset_is_the_first_page(signed_in, value):
    response = signed_in.get(reverse("catalog:new"), {"q": "daft punk", "offset": value})

    assert response.status_code == 200
    assert "Daft Punk" in response.content.decode()


def test_an_artist_id_echoed_into_links_must_be_plain_ascii(signed_in):
    response = signed_in.get(reverse("catalog:album", args=["deezer", "302127"]), {"artist": "２７"})

    assert "artist=%EF%BC%92" not in response.content.decode()
