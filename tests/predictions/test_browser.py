"""The main flow in a real Chromium, with a real worker running the real model."""

from __future__ import annotations

import re

import pytest

from predictions.models import Prediction
from tests.conftest import running_worker
from tests.predictions.conftest import chord_clip

pytestmark = [pytest.mark.browser, pytest.mark.model, pytest.mark.django_db(transaction=True)]


def _sign_in(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/home/")


def test_upload_watch_the_stages_see_the_result_open_history_and_review_it(
    page, django_user_model, job_broker, tmp_path
):
    import soundfile as sf

    django_user_model.objects.create_user("melody", password="tempo-and-key-42")
    django_user_model.objects.create_superuser("admin", "admin@example.com", "admin-pass-42")
    song = tmp_path / "Night Drive.wav"
    sf.write(song, chord_clip(12.0), 22050)

    with running_worker():
        _sign_in(page, "melody", "tempo-and-key-42")
        page.get_by_role("link", name="New prediction").first.click()
        page.get_by_role("tab", name="Upload a file").click()
        page.get_by_label("Audio file").set_input_files(str(song))
        page.get_by_role("button", name="Upload and analyse").click()
        page.wait_for_url(re.compile(r"/predictions/\d+/$"))

        seen = set()
        result = page.locator("#result")
        while not result.count():
            # Read in one step in the page: htmx can swap the card for the result between a count()
            # and an inner_text(), and inner_text() would then wait for a card that is gone.
            heading = page.evaluate("() => document.querySelector('#progress h2')?.innerText ?? null")
            if heading:
                seen.add(heading.strip())
            page.wait_for_timeout(100)
            assert len(seen) < 50
        page.get_by_role("heading", name="Genre", exact=True).wait_for(timeout=120_000)
        # Drawn by the I/O queue's task after the analysis; the page polls until it is there.
        spectrogram = page.get_by_alt_text("Mel-spectrogram of the analysed excerpt")
        spectrogram.wait_for(timeout=60_000)

    assert seen, "the page never showed the job's progress"
    assert all(
        re.match(r"(Queued|Fetching the audio|Analysing the audio|Finding samples)", s) for s in seen
    ), seen
    prediction = Prediction.objects.get(owner__username="melody")
    assert prediction.status == Prediction.Status.DONE
    bars = page.get_by_role("list", name="Genre probabilities").get_by_role("listitem")
    assert bars.count() == 7
    assert page.evaluate("img => img.naturalWidth", spectrogram.element_handle()) > 100
    assert page.locator("dl.facts").get_by_text(re.compile(r"\d+ BPM")).is_visible()

    page.get_by_role("link", name="History").click()
    entry = page.get_by_role("listitem").filter(has_text="Night Drive")
    assert entry.get_by_text(re.compile(r"\d+%")).is_visible()

    page.context.clear_cookies()
    _sign_in(page, "admin", "admin-pass-42")
    page.goto("/admin/predictions/prediction/")
    page.locator(f"input[name=_selected_action][value='{prediction.pk}']").check()
    page.locator("select[name=action]").select_option("confirm_genre")
    page.get_by_role("button", name="Go").click()
    page.get_by_text("Confirmed 1 prediction(s).").wait_for()
    prediction.refresh_from_db()
    assert prediction.reviewed_genre == prediction.top_genre
    assert prediction.reviewed_by.username == "admin"
