"""Creating a prediction from an upload: the user's file name is a title, never a path."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.services import prediction_create_from_upload
from tests.fakes.audio import sine_wav

pytestmark = pytest.mark.django_db

RANDOM_NAME = re.compile(r"uploads/\d{4}/\d{2}/[A-Za-z0-9_-]{24}\.wav")


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("My_Song.wav", "My Song"),
        ("evil.html", "evil"),
        ("𝄞" * 250 + ".wav", "𝄞" * 250),  # 4-byte UTF-8: 1,000 bytes, far over a file name's 255
        ("song." + "x" * 200, "song"),
        ("...wav", "Uploaded song"),
        ("C:\\Users\\ada\\take 3.wav", "take 3"),
    ],
)
def test_an_upload_is_stored_under_a_random_name_with_the_sniffed_extension(user, name, title):
    prediction = prediction_create_from_upload(user=user, upload=SimpleUploadedFile(name, sine_wav(1.0)))

    assert RANDOM_NAME.fullmatch(prediction.upload.name), prediction.upload.name
    assert prediction.title == title
    assert prediction.upload.read(4) == b"RIFF"


def test_two_uploads_of_the_same_name_get_unguessable_different_names(user):
    names = {
        prediction_create_from_upload(
            user=user, upload=SimpleUploadedFile("a.wav", sine_wav(1.0))
        ).upload.name
        for _ in range(3)
    }

    assert len(names) == 3
