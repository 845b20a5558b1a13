"""Issue 18, points 11 to 13: hostile file names and ids on a new prediction, and ?genre=%00 on
history (PostgreSQL refuses NUL in a string: a 500).

Before: a 4-byte UTF-8 file name gave 500 (the temporary file's name was over 255 bytes), `..` or
a name too long for a multipart header gave a bare 400 page, and a picked id "²" (isdigit() but
not int()) gave 500."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from fakeapis.audio import sine_wav
from predictions.models import Prediction
from tests.predictions.factories import DonePredictionFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("genre", ["\x00", "rock\x00", "x" * 500, "Rock'; --", "²"])
def test_a_genre_that_cannot_be_a_slug_is_no_filter(client, user, genre):
    DonePredictionFactory(owner=user, title="Still listed", top_genre="rock")
    client.force_login(user)

    response = client.get(reverse("predictions:history"), {"genre": genre})

    assert response.status_code == 200
    assert "Still listed" in response.content.decode()


def test_a_real_genre_still_filters(client, user):
    DonePredictionFactory(owner=user, title="Rock song", top_genre="rock")
    DonePredictionFactory(owner=user, title="Jazz song", top_genre="jazz")
    client.force_login(user)

    text = client.get(reverse("predictions:history"), {"genre": "jazz"}).content.decode()

    assert "Jazz song" in text
    assert "Rock song" not in text


# --- New prediction: the upload's file name and the picked track's id -------------------------

UNICODE_DIGITS = ["²", "٣", "１２", "3135553²", "1\n"]


def _upload(client, name: str, seconds: float):
    song = io.BytesIO(sine_wav(seconds))
    song.name = name
    return client.post(reverse("predictions:create_from_upload"), {"file": song})


# 80 s of WAV is 3.5 MB: over Django's 2.5 MB in-memory limit, so it goes to a temporary file;
# 4 s stays in memory and is still long enough to be accepted (3 s at least).
@pytest.mark.parametrize("seconds", [4.0, 80.0])
@pytest.mark.parametrize(
    "name", ["𝄞" * 70 + ".wav", "song." + "𝄞" * 70, "song." + "x" * 200, "ünïcödé_söng.wav"]
)
def test_any_file_name_is_accepted_and_kept_off_the_disk(signed_in, user, name, seconds):
    response = _upload(signed_in, name, seconds)

    prediction = Prediction.objects.get(owner=user)
    assert response.status_code == 302
    assert name not in prediction.upload.name
    assert prediction.upload.name.endswith(".wav")


@pytest.mark.parametrize("seconds", [4.0, 80.0])
@pytest.mark.parametrize("name", ["..", "𝄞" * 300 + ".wav"])
def test_an_unreadable_name_gets_a_page_that_says_what_to_do(signed_in, name, seconds):
    response = _upload(signed_in, name, seconds)

    assert response.status_code == 400
    text = response.content.decode()
    assert "give it a short plain name" in text or "This field is required" in text
    assert "<h1>Bad Request (400)</h1>" not in text
    assert not Prediction.objects.exists()


@pytest.mark.parametrize("value", UNICODE_DIGITS)
@pytest.mark.usefixtures("catalog_settings")
def test_pick_refuses_unicode_digits_clearly(signed_in, value):
    response = signed_in.post(
        reverse("predictions:create_from_pick"), {"provider": "deezer", "track_id": value}
    )

    assert response.status_code == 404
    assert not Prediction.objects.exists()
