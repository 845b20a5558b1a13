"""No Freesound key, in a real Chromium (issue 26.7): the New page says samples are off before a song
is submitted; on a result, "More like these" and the CC BY-NC toggle are off rather than doing
nothing, and the key's address is a link; at 1280 and 390 px."""

from __future__ import annotations

import pytest

from samples.freesound import MissingApiKey
from samples.services import samples_message_set
from tests.conftest import no_horizontal_overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

APPLY = "https://freesound.org/apiv2/apply"


@pytest.mark.parametrize("width", [1280, 390])
def test_without_a_key_samples_are_said_to_be_off_and_their_buttons_are_off(
    browser_as, user, prediction, settings, width
):
    settings.FREESOUND_API_KEY = ""
    samples_message_set(prediction=prediction, message=str(MissingApiKey()))
    page = browser_as(user, width=width)

    page.goto("/new/")
    note = page.get_by_role("note").filter(has_text="Samples are off on this site.")
    assert note.is_visible()
    assert note.get_by_role("link", name=APPLY).get_attribute("href") == APPLY
    assert no_horizontal_overflow(page)

    page.goto(prediction.get_absolute_url())
    samples = page.locator("#samples")
    note = samples.get_by_role("note").filter(has_text="Samples are off on this site.")
    assert note.is_visible()
    assert note.get_by_role("link", name=APPLY).is_visible()
    more = samples.get_by_role("button", name="More like these")
    assert more.is_disabled()
    assert more.get_attribute("aria-describedby") == "samples-off"
    assert samples.get_by_role("button", name="Also include non-commercial (CC BY-NC) sounds").is_disabled()
    assert no_horizontal_overflow(page)


@pytest.mark.parametrize("width", [1280, 390])
def test_with_a_key_nothing_says_samples_are_off(browser_as, user, prediction, settings, width):
    settings.FREESOUND_API_KEY = "a-key"
    page = browser_as(user, width=width)

    page.goto("/new/")
    assert page.get_by_text("Samples are off").count() == 0
    page.goto(prediction.get_absolute_url())
    assert page.locator("#samples").get_by_role("button", name="More like these").is_enabled()
