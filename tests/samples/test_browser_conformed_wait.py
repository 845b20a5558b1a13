"""The conformed WAV's wait page in a real Chromium (issue 26.9): when the render arrives, the page
says so and the download starts, instead of the file being saved behind a wait page that kept its
spinner; at 1280 and 390 px."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf
from django.core.files.base import ContentFile
from django.urls import reverse

from samples.models import ConformedRender, Sound
from tests.conftest import no_horizontal_overflow, wait_until
from tests.predictions.factories import DonePredictionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _wav() -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(4410, dtype="float32"), 44100, format="WAV")
    return buffer.getvalue()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_wait_page_turns_into_ready_and_starts_the_download(browser_as, user, filesystem_broker, width):
    song = DonePredictionFactory(owner=user, tempo_bpm=96.0, key="A minor", title="Night Drive", artist="")
    sound = Sound.objects.create(
        freesound_id=4242,
        name="house loop",
        author="looper",
        licence="cc0",
        licence_url="https://creativecommons.org/publicdomain/zero/1.0/",
        duration=3.0,
        bpm=124,
        key="C minor",
        page_url="https://freesound.org/people/looper/sounds/4242/",
        preview_url="https://cdn.freesound.org/previews/4/4242-hq.mp3",
    )
    page = browser_as(user, width=width)

    page.goto(reverse("samples:conformed_download", args=[song.pk, sound.pk]))
    page.get_by_role("button", name="Render the WAV").click()  # a GET queues nothing (issue 28.1)
    page.get_by_text("the download starts when the WAV is ready").wait_for()
    assert wait_until(lambda: ConformedRender.objects.filter(sound=sound).exists(), timeout=10)
    row = ConformedRender.objects.get(sound=sound)

    with page.expect_download(timeout=20_000) as download:
        # What the worker does when the render is done.
        row.file.save("render.wav", ContentFile(_wav()), save=False)
        row.status = ConformedRender.Status.DONE
        row.save(update_fields=["file", "status"])
        page.get_by_text("The WAV is ready: your download starts now.").wait_for(timeout=20_000)

    assert download.value.suggested_filename.endswith(".wav")
    assert page.get_by_text("the download starts when the WAV is ready").count() == 0
    assert page.get_by_role("link", name="Back to the song").is_visible()
    assert no_horizontal_overflow(page)
