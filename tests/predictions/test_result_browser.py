"""The result page in a real Chromium at 1280 and 390 px: what a failed job offers, the re-run
action, and the spectrogram."""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile

from predictions.models import Prediction
from predictions.taxonomy import served_model
from tests.accounts.factories import UserFactory
from tests.conftest import no_horizontal_overflow
from tests.predictions.factories import DonePredictionFactory, PredictionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [1280, 390]


def spectrogram_png(width: int = 1000, height: int = 400) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40, 20, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_too_short_upload_offers_another_file_not_try_again(browser_as, width):
    user = UserFactory(username="melody")
    failed = PredictionFactory(
        owner=user,
        source="upload",
        title="snare",
        status=Prediction.Status.FAILED,
        error="The audio lasts 1.0 s; at least 3 s are needed.",
        input_error=True,
    )
    page = browser_as(user, width=width)
    page.goto(failed.get_absolute_url())

    assert page.get_by_role("alert").filter(has_text="at least 3 s are needed").is_visible()
    assert page.get_by_role("button", name="Try again").count() == 0
    page.get_by_role("link", name="Upload another file").click()
    page.get_by_label("Audio file").wait_for()
    assert Prediction.objects.count() == 1  # no new failed row in the history


@pytest.mark.parametrize("width", WIDTHS)
def test_rerun_is_a_small_secondary_action_only_for_an_older_model(browser_as, width):
    user = UserFactory(username="melody")
    served_name, served_version = served_model()
    old = DonePredictionFactory(owner=user, model_name="musicnn-zeroshot-7", model_version="0.9.0")
    current = DonePredictionFactory(owner=user, model_name=served_name, model_version=served_version)
    page = browser_as(user, width=width)

    page.goto(current.get_absolute_url())
    assert page.get_by_role("button", name="Analyse again with it").count() == 0

    page.goto(old.get_absolute_url())
    rerun = page.get_by_role("button", name="Analyse again with it")
    delete = page.get_by_role("link", name="Delete")
    assert rerun.is_visible()
    assert rerun.evaluate("e => getComputedStyle(e).backgroundColor") == "rgba(0, 0, 0, 0)"
    assert rerun.bounding_box()["height"] <= delete.bounding_box()["height"]
    assert no_horizontal_overflow(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_spectrogram_opens_full_size_with_its_real_length(browser_as, width):
    user = UserFactory(username="melody")
    done = DonePredictionFactory(owner=user, excerpt_s=10.0)
    done.spectrogram.save("s.png", ContentFile(spectrogram_png()))
    page = browser_as(user, width=width)
    page.goto(done.get_absolute_url())

    caption = page.locator("figure.spectrogram figcaption")
    assert caption.inner_text().startswith("Mel-spectrogram of the 10-second excerpt the model heard.")
    shown = page.get_by_alt_text("Mel-spectrogram of the analysed excerpt")
    assert shown.bounding_box()["width"] < 1000  # fitted to the card...
    with page.context.expect_page() as opened:
        shown.click()
    full = opened.value
    full.wait_for_load_state()
    assert full.url.endswith(f"/predictions/{done.pk}/spectrogram.png")
    assert full.evaluate("document.images[0].naturalWidth") == 1000  # ...and opens at full size


@pytest.mark.parametrize("width", WIDTHS)
def test_the_page_says_the_spectrogram_is_being_drawn_then_shows_it_without_a_reload(
    browser_as, width, tmp_path
):
    from predictions import jobs
    from tests.predictions.conftest import fake_mel_power
    from worker.audio.spectrogram import save_mel

    user = UserFactory(username="melody")
    done = DonePredictionFactory(owner=user, excerpt_s=10.0)
    mel = save_mel(fake_mel_power(), tmp_path / "m.npz", start_s=10.0)
    done.spectrogram_mel.save("m.npz", ContentFile(mel.read_bytes()))  # as the ML job leaves it
    page = browser_as(user, width=width)
    refused: list[str] = []
    page.on(
        "console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None
    )
    page.goto(done.get_absolute_url())

    placeholder = page.get_by_role("status").filter(has_text="Drawing the spectrogram…")
    assert placeholder.is_visible()
    page.evaluate("window.sameDocument = true")

    assert jobs.prediction_spectrogram_render(prediction_id=done.pk)  # what the I/O worker runs

    shown = page.get_by_alt_text("Mel-spectrogram of the analysed excerpt")
    shown.wait_for(timeout=10_000)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=shown.element_handle())
    assert page.evaluate("img => img.naturalWidth", shown.element_handle()) == 1000  # the drawn PNG
    assert page.evaluate("window.sameDocument") is True  # swapped in by htmx, not a reload
    assert placeholder.count() == 0
    assert no_horizontal_overflow(page)
    assert refused == []
