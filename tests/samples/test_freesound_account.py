"""Original files with the user's own Freesound account (issue 25.3): the OAuth2 flow against the
fake Freesound (state, code exchange, refresh on expiry, encryption at rest, disconnect), the
original download and pack ZIPs of originals."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from fakeapis.freesound_catalogue import CLIENT_ID, CLIENT_SECRET
from samples import freesound_oauth
from samples.exports import pack_signature, pack_zip_write
from samples.freesound_oauth import (
    ConnectionLost,
    NotConnected,
    access_token,
    account_connect,
    account_disconnect,
    authorize_url,
    state_take,
)
from samples.models import FreesoundAccount, Sound, SoundOriginal
from samples.originals import OriginalError, OriginalMissing, original_get
from samples.sounds import sound_upsert_many

pytestmark = pytest.mark.django_db

CALLBACK = "http://testserver/packs/freesound/callback/"


@pytest.fixture
def oauth(fs, settings):
    """The fake Freesound with the site registered as an OAuth2 client."""
    settings.FREESOUND_CLIENT_ID = CLIENT_ID
    settings.FREESOUND_CLIENT_SECRET = CLIENT_SECRET
    settings.FREESOUND_OAUTH_URL = f"{fs.url}/apiv2/oauth2/"
    settings.FREESOUND_TOKEN_KEY = ""
    fs.oauth_callback = CALLBACK
    return fs


def authorize(fs, state: str = "s") -> str:
    """What a user clicking "Authorize" on Freesound's page does: the code sent to the callback."""
    answer = requests.post(
        f"{fs.url}/apiv2/oauth2/authorize/",
        data={"client_id": CLIENT_ID, "response_type": "code", "state": state, "allow": "1"},
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(CALLBACK)
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [state]
    return query["code"][0]


def connect(fs, user) -> FreesoundAccount:
    return account_connect(user=user, code=authorize(fs))


def a_sound(fs, name: str = "pad 1.wav", **kwargs) -> Sound:
    from samples import freesound

    fs.add_sound(name, username="maker", tags=("pad", "loop"), bpm=90, **kwargs)
    return sound_upsert_many(results=freesound.search(query="pad", page_size=150).results)[0]


# --- Service: tokens ------------------------------------------------------------------------------


def test_the_code_is_exchanged_for_tokens_kept_encrypted(oauth, user):
    account = connect(oauth, user)
    token = access_token(user=user)
    assert token in oauth.access_tokens  # the one Freesound issued
    assert account.expires_at > timezone.now() + timedelta(hours=23)
    assert account.scope == "read write"
    exchange = [r for r in oauth.calls("/apiv2/oauth2/access_token/")]
    assert exchange[-1].query["grant_type"] == "authorization_code"
    assert exchange[-1].query["client_secret"] == CLIENT_SECRET
    # Encryption at rest: the columns never hold the secrets.
    (refresh,) = oauth.refresh_tokens
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token_encrypted, refresh_token_encrypted FROM samples_freesoundaccount")
        stored = " ".join(cursor.fetchone())
    assert token not in stored
    assert refresh not in stored
    assert freesound_oauth.token_decrypt(account.refresh_token_encrypted) == refresh


def test_a_code_works_once(oauth, user):
    code = authorize(oauth)
    account_connect(user=user, code=code)
    with pytest.raises(freesound_oauth.OAuthRefused):
        account_connect(user=user, code=code)


def test_an_expired_access_token_is_refreshed_and_the_refresh_token_rotated(oauth, user):
    connect(oauth, user)
    old = access_token(user=user)
    (old_refresh,) = oauth.refresh_tokens
    FreesoundAccount.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(minutes=1))

    new = access_token(user=user)

    assert new != old
    assert oauth.calls("/apiv2/oauth2/access_token/")[-1].query["grant_type"] == "refresh_token"
    assert old_refresh not in oauth.refresh_tokens  # rotated by Freesound, replaced here
    account = FreesoundAccount.objects.get(user=user)
    assert account.refreshed_at is not None
    assert account.expires_at > timezone.now() + timedelta(hours=23)
    assert freesound_oauth.token_decrypt(account.refresh_token_encrypted) in oauth.refresh_tokens
    assert access_token(user=user) == new  # fresh now: no second refresh
    assert len(oauth.calls("/apiv2/oauth2/access_token/")) == 2


def test_a_refused_refresh_disconnects_the_account(oauth, user):
    connect(oauth, user)
    oauth.revoke_all()  # the user removed the app on Freesound
    FreesoundAccount.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ConnectionLost):
        access_token(user=user)
    assert not FreesoundAccount.objects.filter(user=user).exists()


def test_tokens_written_with_another_key_count_as_a_lost_connection(oauth, user, settings):
    connect(oauth, user)
    settings.SECRET_KEY = "another-secret-key-entirely"  # the derived key changes with it
    with pytest.raises(ConnectionLost):
        access_token(user=user)
    assert not FreesoundAccount.objects.exists()


def test_a_dedicated_token_key_is_used_and_may_be_rotated(oauth, user, settings):
    from cryptography.fernet import Fernet

    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FREESOUND_TOKEN_KEY = first
    connect(oauth, user)
    token = access_token(user=user)
    settings.FREESOUND_TOKEN_KEY = f"{second},{first}"  # the new key first; the old one still reads
    assert access_token(user=user) == token


def test_disconnect_deletes_the_tokens(oauth, user):
    connect(oauth, user)
    assert account_disconnect(user=user) is True
    assert not FreesoundAccount.objects.exists()
    with pytest.raises(NotConnected):
        access_token(user=user)
    assert account_disconnect(user=user) is False


def test_the_state_is_bound_to_the_session_and_used_once(oauth, monkeypatch):
    session: dict = {}
    url = authorize_url(session=session)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(f"{oauth.url}/apiv2/oauth2/authorize/?")
    assert query["client_id"] == [CLIENT_ID]
    assert query["response_type"] == ["code"]
    state = query["state"][0]
    assert not state_take(session={}, state=state)  # another session
    assert not state_take(session=dict(session), state=state + "x")
    assert state_take(session=session, state=state)
    assert not state_take(session=session, state=state)  # used once
    authorize_url(session=session)
    session[freesound_oauth.SESSION_STATE]["at"] -= freesound_oauth.STATE_MAX_AGE_S + 1
    assert not state_take(session=session, state=session[freesound_oauth.SESSION_STATE]["state"])


# --- Service: originals ----------------------------------------------------------------------------


def test_the_original_is_downloaded_with_the_bearer_token_sniffed_and_cached(oauth, user, other_user):
    sound = a_sound(oauth)
    connect(oauth, user)
    original = original_get(sound=sound, user=user)
    assert original.container == "wav"
    with original.file.open("rb") as handle:
        assert handle.read(4) == b"RIFF"
    (download,) = oauth.calls(f"/apiv2/sounds/{sound.freesound_id}/download/")
    assert download.headers["Authorization"].startswith("Bearer ")
    # Cached per sound: another connected user gets it without a download; an unconnected one not at all.
    connect(oauth, other_user)
    assert original_get(sound=sound, user=other_user).pk == original.pk
    assert len(oauth.calls("/apiv2/sounds/")) == 1
    account_disconnect(user=other_user)
    with pytest.raises(NotConnected):
        original_get(sound=sound, user=other_user)


def test_originals_are_refused_past_the_size_cap_and_when_not_audio(oauth, user, settings):
    sound = a_sound(oauth)
    connect(oauth, user)
    settings.FREESOUND_ORIGINAL_MAX_BYTES = 1000
    with pytest.raises(OriginalError, match="larger than"):
        original_get(sound=sound, user=user)
    settings.FREESOUND_ORIGINAL_MAX_BYTES = 10_000_000
    oauth.set_original(sound.freesound_id, b"<html>not audio</html>" * 10)
    with pytest.raises(OriginalError, match="not an audio file"):
        original_get(sound=sound, user=user)
    oauth.set_original(sound.freesound_id, None)
    with pytest.raises(OriginalMissing):
        original_get(sound=sound, user=user)
    assert not SoundOriginal.objects.exists()


def test_a_token_refused_at_download_disconnects(oauth, user):
    sound = a_sound(oauth)
    connect(oauth, user)
    oauth.revoke_all()
    with pytest.raises(NotConnected):
        original_get(sound=sound, user=user)
    assert not FreesoundAccount.objects.exists()


def test_a_pack_zip_holds_the_originals_once_connected(oauth, user, pack_of):
    pack = pack_of(2)
    before = pack_signature(pack)
    connect(oauth, user)
    assert pack_signature(pack) != before  # a ZIP of previews is not served as one of originals

    target = io.BytesIO()
    pack_zip_write(pack=pack, target=target)

    archive = zipfile.ZipFile(target)
    wavs = sorted(n for n in archive.namelist() if n.endswith(".wav"))
    assert wavs == ["pad_0_90bpm.wav", "pad_1_90bpm.wav"]
    assert all(archive.read(n)[:4] == b"RIFF" for n in wavs)
    meta = json.loads(archive.read("pack.json"))
    assert [s["source"] for s in meta["sounds"]] == ["original", "original"]
    attribution = archive.read("ATTRIBUTION.txt").decode()
    assert "the original files as their authors uploaded" in attribution
    assert "previews" not in attribution


def test_a_sound_without_an_original_keeps_its_preview_and_says_why(oauth, user, pack_of):
    pack = pack_of(2)
    connect(oauth, user)
    first = pack.items.order_by("sound__name").first().sound
    oauth.set_original(first.freesound_id, None)

    target = io.BytesIO()
    pack_zip_write(pack=pack, target=target)

    archive = zipfile.ZipFile(target)
    assert sorted(archive.namelist()) == [
        "ATTRIBUTION.txt",
        "pack.json",
        "pad_0_90bpm.mp3",
        "pad_1_90bpm.wav",
    ]
    attribution = archive.read("ATTRIBUTION.txt").decode()
    assert "[the MP3 preview: the original could not be downloaded" in attribution


def test_without_a_connection_zips_hold_previews_as_before(oauth, user, pack_of):
    pack = pack_of(1)
    target = io.BytesIO()
    pack_zip_write(pack=pack, target=target)
    archive = zipfile.ZipFile(target)
    assert [n for n in archive.namelist() if n.endswith((".mp3", ".wav"))] == ["pad_0_90bpm.mp3"]
    assert not oauth.calls("/apiv2/oauth2/")


# --- Views ---------------------------------------------------------------------------------------------


def test_connect_sends_the_user_to_freesound_with_the_session_state(oauth, client, user):
    client.force_login(user)
    page = client.get(reverse("samples:freesound_account"))
    assert b"Connect Freesound" in page.content
    assert b"original files" in page.content
    assert client.get(reverse("samples:freesound_connect")).status_code == 405  # POST only
    answer = client.post(reverse("samples:freesound_connect"))
    assert answer.status_code == 302
    state = parse_qs(urlsplit(answer["Location"]).query)["state"][0]
    assert client.session[freesound_oauth.SESSION_STATE]["state"] == state


def test_the_callback_connects_with_the_right_state_only(oauth, client, user):
    client.force_login(user)
    state = parse_qs(urlsplit(client.post(reverse("samples:freesound_connect"))["Location"]).query)["state"][
        0
    ]
    code = authorize(oauth, state)
    callback = reverse("samples:freesound_callback")

    refused = client.get(callback, {"code": code, "state": "forged"})
    assert refused.status_code == 400
    assert not FreesoundAccount.objects.exists()
    # The state was used up by the refused attempt: the right one no longer works either.
    assert client.get(callback, {"code": code, "state": state}).status_code == 400

    state = parse_qs(urlsplit(client.post(reverse("samples:freesound_connect"))["Location"]).query)["state"][
        0
    ]
    answer = client.get(callback, {"code": authorize(oauth, state), "state": state}, follow=True)
    assert answer.redirect_chain[-1][0] == reverse("samples:freesound_account")
    assert b"Connected." in answer.content
    assert FreesoundAccount.objects.filter(user=user).exists()


def test_a_denied_authorization_connects_nothing(oauth, client, user):
    client.force_login(user)
    state = parse_qs(urlsplit(client.post(reverse("samples:freesound_connect"))["Location"]).query)["state"][
        0
    ]
    answer = client.get(reverse("samples:freesound_callback"), {"error": "access_denied", "state": state})
    assert answer.status_code == 302
    assert not FreesoundAccount.objects.exists()


def test_disconnect_asks_first(oauth, client, user):
    client.force_login(user)
    assert client.get(reverse("samples:freesound_disconnect")).status_code == 404  # nothing connected
    connect(oauth, user)
    confirm = client.get(reverse("samples:freesound_disconnect"))
    assert confirm.status_code == 200
    assert b"Disconnect your Freesound account?" in confirm.content
    assert FreesoundAccount.objects.exists()
    assert client.post(reverse("samples:freesound_disconnect")).status_code == 302
    assert not FreesoundAccount.objects.exists()


def test_without_oauth_credentials_the_pages_say_previews_only(fs, client, user, settings):
    settings.FREESOUND_CLIENT_ID = ""
    client.force_login(user)
    page = client.get(reverse("samples:freesound_account"))
    assert b"not set up for Freesound accounts" in page.content
    assert client.post(reverse("samples:freesound_connect")).status_code == 404
    assert client.get(reverse("samples:freesound_callback"), {"state": "x", "code": "y"}).status_code == 404


def test_download_original_needs_a_connection(oauth, client, user):
    sound = a_sound(oauth)
    client.force_login(user)
    url = reverse("samples:original_file", args=[sound.pk])
    refused = client.get(url)
    assert refused.status_code == 403
    assert reverse("samples:freesound_account").encode() in refused.content

    connect(oauth, user)
    answer = client.get(url)
    assert answer.status_code == 200
    assert answer["Content-Disposition"] == 'attachment; filename="pad_1_90bpm.wav"'
    assert b"".join(answer.streaming_content)[:4] == b"RIFF"

    Sound.objects.filter(pk=sound.pk).update(removed=True)
    assert client.get(url).status_code == 404


def test_an_original_freesound_no_longer_has_is_404(oauth, client, user):
    sound = a_sound(oauth)
    oauth.set_original(sound.freesound_id, None)
    connect(oauth, user)
    client.force_login(user)
    assert client.get(reverse("samples:original_file", args=[sound.pk])).status_code == 404


def test_renders_are_made_from_the_original_for_connected_users_only(oauth, user, other_user):
    from samples.conform.conforming import SongGrid, plan_for, render_now
    from samples.models import ConformedRender

    sound = a_sound(oauth)
    plan = plan_for(sound=sound, grid=SongGrid(tempo_bpm=90.0, key=""))  # same tempo: no Rubber Band needed
    connect(oauth, user)

    mine = render_now(sound=sound, plan=plan, user=user)
    theirs = render_now(sound=sound, plan=plan, user=other_user)

    assert (mine.source, mine.status) == (ConformedRender.Source.ORIGINAL, ConformedRender.Status.DONE)
    assert (theirs.source, theirs.status) == (ConformedRender.Source.PREVIEW, ConformedRender.Status.DONE)
    assert len(oauth.calls(f"/apiv2/sounds/{sound.freesound_id}/download/")) == 1
    # The fake's original lasts 1.5 s and its preview 3 s: each render is of its own source.
    assert mine.duration_s < 2.0 < theirs.duration_s


def test_the_cached_samples_panel_follows_the_connection(oauth, client, user, prediction):
    from samples.models import GenreSearch
    from samples.services import recommendations_create_for_prediction
    from tests.samples.conftest import add_loops

    GenreSearch.objects.filter(slug="dance").update(queries="house loop")
    add_loops(oauth, "house", n=6, bpm=124)
    assert recommendations_create_for_prediction(prediction=prediction)
    client.force_login(user)

    before = client.get(prediction.get_absolute_url()).content.decode()
    assert "Original: connect Freesound" in before
    assert "Download original" not in before
    connect(oauth, user)
    after = client.get(prediction.get_absolute_url()).content.decode()
    assert "Download original" in after
    assert "Original: connect Freesound" not in after
