"""Issue 18, point 2: an upload is served as the audio its bytes are, never as what its name says.

An upload named evil.html whose bytes were `ID3` + `<script>` used to be served inline as
text/html; staff may open any prediction's audio, so the script ran with a staff session.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.urls import reverse

from fakeapis.audio import sine_wav
from predictions.models import Prediction
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

SCRIPT = b"ID3\x03\x00\x00\x00\x00\x00\x00<script>alert(document.domain)</script>"


def _stored_upload(owner, name: str, content: bytes) -> Prediction:
    """A prediction whose file was stored under `name` (as uploads were before random names)."""
    prediction = Prediction(owner=owner, source="upload", title="x", status=Prediction.Status.DONE)
    prediction.upload.save(name, ContentFile(content), save=True)
    return prediction


@pytest.fixture
def staff_client(client):
    staff = UserFactory(username="staff", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_prediction"))
    client.force_login(staff)
    return client


@pytest.mark.parametrize("name", ["evil.html", "evil.svg", "evil.xhtml"])
def test_a_script_named_like_a_page_is_never_served_as_one(staff_client, other_user, name):
    prediction = _stored_upload(other_user, name, SCRIPT)

    response = staff_client.get(reverse("predictions:audio", args=[prediction.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == SCRIPT  # the owner still gets their bytes back


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("song.html", sine_wav(0.5), "audio/wav"),
    ("song.txt", b"ID3\x03\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x64" + b"\x00" * 400, "audio/mpeg"),
    ("song", b"fLaC\x00\x00\x00\x22" + b"\x00" * 400, "audio/flac"),
])  # fmt: skip
def test_audio_is_served_with_the_type_of_its_sniffed_format(client, user, name, content, expected):
    client.force_login(user)
    prediction = _stored_upload(user, name, content)

    response = client.get(reverse("predictions:audio", args=[prediction.pk]))

    assert response["Content-Type"] == expected
