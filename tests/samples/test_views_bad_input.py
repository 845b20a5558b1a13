"""Issue 18, point 13: an htmx save-to-pack with sound=abc gave 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

from samples.models import Pack

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.mark.parametrize("sound", ["abc", "", "²", "-1", "1.5", "9" * 30])
def test_a_bad_sound_id_redraws_the_form_with_a_message(client, user, sound):
    client.force_login(user)

    response = client.post(reverse("samples:sound_save"), {"sound": sound, "pack_name": "Keepers"}, **HTMX)

    assert response.status_code in (200, 404)
    if response.status_code == 200:
        assert 'role="alert"' in response.content.decode()
    assert not Pack.objects.filter(owner=user).exists()


@pytest.mark.parametrize(
    "next_url", ["0", "home", "samples:pack_list", "javascript:alert(1)", "//evil.example/"]
)
def test_a_next_that_is_not_a_site_path_falls_back_to_the_packs(client, user, next_url):
    """Found by the property-based run: redirect("0") looked "0" up as a view name and gave 500."""
    client.force_login(user)

    response = client.post(
        reverse("samples:sound_save"), {"sound": "abc", "pack_name": "K", "next": next_url}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("samples:pack_list")
