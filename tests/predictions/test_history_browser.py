"""History's search and genre filter in a real Chromium at 1280 and 390 px."""

from __future__ import annotations

import pytest

from tests.accounts.factories import UserFactory
from tests.conftest import no_horizontal_overflow
from tests.predictions.factories import DonePredictionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_search_history_by_title_or_artist_then_narrow_by_genre(browser_as, width):
    user = UserFactory(username="melody")
    DonePredictionFactory(owner=user, title="One More Time", artist="Daft Punk", top_genre="dance")
    DonePredictionFactory(owner=user, title="Digital Love", artist="Daft Punk", top_genre="pop")
    DonePredictionFactory(owner=user, title="Teardrop", artist="Massive Attack", top_genre="electronica")
    page = browser_as(user, width=width)
    page.goto("/predictions/")
    titles = page.locator(".prediction-list .title")

    search = page.get_by_role("searchbox", name="Search")
    assert search.is_visible()
    assert page.get_by_role("combobox", name="Genre").is_visible()  # side by side with the search
    search.fill("daft")
    search.press("Enter")
    page.wait_for_url("**/predictions/?q=daft*")
    assert sorted(titles.all_inner_texts()) == ["Daft Punk – Digital Love", "Daft Punk – One More Time"]

    page.get_by_role("combobox", name="Genre").select_option("pop")  # sends the form by itself
    page.wait_for_url("**genre=pop*")
    assert titles.all_inner_texts() == ["Daft Punk – Digital Love"]
    assert page.get_by_role("searchbox", name="Search").input_value() == "daft"
    assert no_horizontal_overflow(page)
