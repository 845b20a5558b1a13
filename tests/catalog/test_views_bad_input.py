"""Issue 18, point 12: hostile ids on the New prediction page's catalog browser.

Before: "²" (isdigit() but not int()) gave 500 on /new/artist/, /new/preview/ and ?offset=.
Picks and uploads (predictions.views) are tested in tests/predictions/test_views_bad_input.py.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog_settings")]

UNICODE_DIGITS = ["²", "٣", "１２", "3135553²", "1\n"]


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
