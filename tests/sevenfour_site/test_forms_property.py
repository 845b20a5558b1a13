"""A property-based run over the web forms (issue 18, "done when"): whatever a client sends, no
page answers 500. Hypothesis generates the fields, including the inputs that once broke pages
(unicode digits, NUL bytes, 4-byte characters, `..`, huge numbers). The test client re-raises any
exception a view lets escape, so a 500 fails the run with its traceback.
"""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakeapis.audio import sine_wav
from predictions.models import Prediction
from tests.accounts.factories import UserFactory
from tests.predictions.factories import DonePredictionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog_settings")]

RUN = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text a browser can send: any character but lone surrogates (which no encoder can send).
any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=80)
tricky = st.sampled_from(
    ["", "0", "²", "٣", "１２", "-1", "1e9", "9" * 40, "\x00", "..", "../../etc/passwd", "<script>", "𝄞" * 70]
)
field = st.one_of(any_text, tricky)
number_like = st.one_of(st.integers(min_value=-(2**70), max_value=2**70).map(str), tricky, any_text)


@pytest.fixture
def web(user) -> Client:
    client = Client(HTTP_ACCEPT="text/html")
    client.force_login(user)
    return client


def assert_no_server_error(response) -> None:
    assert response.status_code < 500, response.content[:500]


@RUN
@given(q=field, provider=field, offset=number_like, tab=field)
def test_search(web, q, provider, offset, tab):
    assert_no_server_error(web.get("/new/", {"q": q, "provider": provider, "offset": offset, "tab": tab}))


@RUN
@given(provider=st.sampled_from(["deezer", "spotify", "itunes", "nope"]), item=field, offset=number_like)
def test_artist_album_and_preview_pages(web, provider, item, offset):
    segment = quote(item, safe="") or "x"
    for path in (f"/new/artist/{provider}/{segment}/", f"/new/album/{provider}/{segment}/"):
        assert_no_server_error(web.get(path, {"offset": offset, "artist": item, "q": item}))
    assert_no_server_error(web.get(f"/new/preview/{provider}/{segment}/"))


@RUN
@given(provider=field, track_id=field, htmx=st.booleans())
def test_pick(web, provider, track_id, htmx):
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    assert_no_server_error(
        web.post(
            reverse("predictions:create_from_pick"), {"provider": provider, "track_id": track_id}, **extra
        )
    )


@RUN
@given(
    name=st.one_of(any_text, tricky, st.text(min_size=1, max_size=300).map(lambda s: s + ".wav")),
    content=st.one_of(
        st.binary(max_size=2048),
        st.just(sine_wav(0.5)),
        st.binary(max_size=64).map(lambda b: b"ID3\x03\x00\x00\x00\x00\x00\x0a" + b),
    ),
)
def test_upload(web, name, content):
    song = io.BytesIO(content)
    song.name = name
    assert_no_server_error(web.post(reverse("predictions:create_from_upload"), {"file": song}))


@RUN
@given(genre=field, page=number_like)
def test_history_filter(web, user, genre, page):
    if not Prediction.objects.filter(owner=user).exists():
        DonePredictionFactory(owner=user)
    assert_no_server_error(web.get("/predictions/", {"genre": genre, "page": page}))


@RUN
@given(sound=number_like, pack_name=field, next_url=field, htmx=st.booleans())
def test_save_to_pack(web, sound, pack_name, next_url, htmx):
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    data = {"sound": sound, "pack_name": pack_name, "next": next_url}
    assert_no_server_error(web.post("/packs/save/", data, **extra))


@RUN
@given(name=field, notes=field, allow=field)
def test_pack_forms_and_preferences(web, name, notes, allow):
    assert_no_server_error(web.post("/packs/new/", {"name": name, "notes": notes}))
    assert_no_server_error(web.post("/packs/preferences/", {"allow_noncommercial": allow, "next": notes}))


@RUN
@given(username=field, email=field, password=field)
def test_signup_and_login(client, username, email, password):
    form = {"username": username, "email": email, "password1": password, "password2": password}
    assert_no_server_error(client.post("/accounts/signup/", form))
    client.logout()
    assert_no_server_error(client.post("/accounts/login/", {"username": username, "password": password}))
    client.logout()


@RUN
@given(old=field, new=field)
def test_password_change(db, old, new):
    client = Client()
    client.force_login(UserFactory())
    data = {"old_password": old, "new_password1": new, "new_password2": new}
    assert_no_server_error(client.post("/accounts/password/", data))
