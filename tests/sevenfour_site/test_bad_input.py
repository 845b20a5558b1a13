"""Issue 28, point 6: requests that were 500s. A NUL byte in the address (PostgreSQL refuses NUL
in a string; SQLite stores it, so these tests prove the most when DATABASE_URL is PostgreSQL, as
in CI), JSON nested past Python's recursion limit, and a Range header of thousands of digits."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.services import api_token_create
from api.parsers import MAX_JSON_DEPTH, json_depth
from predictions.models import Prediction
from samples.models import ConformedRender
from tests.accounts.factories import UserFactory
from tests.predictions.factories import DonePredictionFactory
from tests.samples.factories import make_sound

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    ("query", "listed"),
    [("q=%00", ["Rock me", "Something else"]), ("q=rock%00", ["Rock me"]), ("q=ro%00ck", ["Rock me"]),
     ("genre=%00&q=%00", ["Rock me", "Something else"]), ("page=%00", ["Rock me", "Something else"]),
     ("%00=1", ["Rock me", "Something else"])],
)  # fmt: skip
def test_a_nul_in_the_history_search_is_taken_out_not_a_500(client, user, query, listed):
    DonePredictionFactory(owner=user, title="Rock me")
    DonePredictionFactory(owner=user, title="Something else")
    client.force_login(user)

    response = client.get(f"{reverse('predictions:history')}?{query}")

    assert response.status_code == 200
    assert sorted(p.title for p in response.context["page"]) == listed


@pytest.mark.parametrize(
    ("url_name", "query"),
    [
        ("admin:predictions_prediction_changelist", "q=%00"),
        ("admin:predictions_prediction_changelist", "top_genre=%00"),
        ("admin:predictions_prediction_changelist", "model_version=%00"),
        ("admin:predictions_prediction_changelist", "source__exact=%00"),
        ("admin:predictions_referencetrack_changelist", "genre__exact=%00"),
        ("admin:samples_sound_changelist", "licence__exact=%00"),
        ("admin:samples_sound_changelist", "q=%00"),
    ],
)
def test_a_nul_in_an_admin_search_or_filter_is_taken_out_not_a_500(staff_client, url_name, query):
    DonePredictionFactory()

    response = staff_client.get(f"{reverse(url_name)}?{query}")

    assert response.status_code in (200, 302)  # the list, or the admin's own "?e=1" for a bad lookup


def test_an_admin_filter_with_a_nul_filters_by_what_is_left(staff_client):
    DonePredictionFactory(title="Dance one", top_genre="dance")
    DonePredictionFactory(title="Rock one", top_genre="rock")

    response = staff_client.get(f"{reverse('admin:predictions_prediction_changelist')}?top_genre=ro%00ck")

    assert [p.title for p in response.context["cl"].result_list] == ["Rock one"]


def test_a_nul_in_an_api_query_is_not_a_500(user):
    DonePredictionFactory(owner=user, top_genre="rock")
    api = APIClient()
    api.force_authenticate(user)

    response = api.get("/api/v1/predictions/?genre=rock%00")

    assert response.status_code == 200
    assert response.json()["count"] == 1


# --- Deeply nested JSON -----------------------------------------------------------------------------


@pytest.fixture
def api(user) -> APIClient:
    cache.clear()  # throttle histories live in the cache, shared by the tests of this process
    _, secret = api_token_create(user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
@pytest.mark.parametrize("url", ["/api/v1/predictions/", "/api/v1/packs/"])
def test_deeply_nested_json_is_a_400_parse_error(api, url, depth):
    body = "[" * depth + "]" * depth

    response = api.post(url, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert f"deeper than {MAX_JSON_DEPTH} levels" in response.json()["error"]["message"]
    assert not Prediction.objects.exists()


def test_json_within_the_limit_reaches_the_serializer(api):
    body = {"preview_url": [[["x"]]]}

    response = api.post("/api/v1/predictions/", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] != "parse_error"


@pytest.mark.parametrize(("data", "depth"), [(1, 0), ([], 1), ({"a": [1, {"b": []}]}, 4), ([[[[]]]], 4)])
def test_json_depth(data, depth):
    assert json_depth(data) == depth


# --- Range header ----------------------------------------------------------------------------------


@pytest.fixture
def render_url() -> str:
    row = ConformedRender.objects.create(
        sound=make_sound(), target_bpm=96, semitones=0, status=ConformedRender.Status.DONE
    )
    row.file.save("render.wav", ContentFile(b"RIFF" + bytes(996)), save=True)
    return reverse("samples:render_audio", args=[row.pk])


@pytest.mark.parametrize(
    "header",
    ["bytes=" + "9" * 5000 + "-", "bytes=-" + "9" * 5000, "bytes=0-" + "9" * 5000, "bytes=²-", "bytes=0-٣"],
)
def test_a_huge_or_unicode_range_header_is_ignored_and_the_whole_file_sent(client, user, render_url, header):
    client.force_login(user)

    response = client.get(render_url, HTTP_RANGE=header)

    assert response.status_code == 200
    assert len(b"".join(response.streaming_content)) == 1000


def test_a_plain_range_is_still_honoured(client, user, render_url):
    client.force_login(user)

    response = client.get(render_url, HTTP_RANGE="bytes=0-99")

    assert (response.status_code, len(response.content)) == (206, 100)
