"""In a real browser, at 1280 and 390 px: connect a Freesound account through the fake OAuth2 server
(its authorize page and "Authorize" button), download a sound's original, download a pack ZIP of
originals, then disconnect (issue 25.3)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.urls import reverse

from fakeapis.freesound_catalogue import CLIENT_ID, CLIENT_SECRET
from samples.models import FreesoundAccount
from tests.accounts.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_connect_download_an_original_and_a_zip_of_originals(
    browser_as, fs, live_server, settings, tmp_path, width
):
    from samples import freesound
    from samples.packs import pack_add_sound, pack_create
    from samples.sounds import sound_upsert_many
    from tests.conftest import no_horizontal_overflow

    settings.FREESOUND_CLIENT_ID = CLIENT_ID
    settings.FREESOUND_CLIENT_SECRET = CLIENT_SECRET
    settings.FREESOUND_OAUTH_URL = f"{fs.url}/apiv2/oauth2/"
    # As settings.py derives it from FREESOUND_OAUTH_URL: the connect form may lead to Freesound.
    settings.CSP_PATH_EXTRA = {**settings.CSP_PATH_EXTRA, "/packs/freesound/": {"form-action": [fs.url]}}
    fs.oauth_callback = f"{live_server.url}{reverse('samples:freesound_callback')}"
    user = UserFactory(username=f"producer-{width}")
    page = browser_as(user, width=width)

    # Without a connection the pack page says what connecting adds.
    for i in range(2):
        fs.add_sound(f"pad {i}.wav", username=f"maker{i}", licence="cc0", tags=("pad", "loop"), bpm=90)
    pack = pack_create(owner=user, name="Originals")
    for sound in sound_upsert_many(results=freesound.search(query="pad", page_size=150).results):
        pack_add_sound(pack=pack, sound=sound)
    page.goto(pack.get_absolute_url())
    assert (
        "Connect your Freesound account to get the original files" in page.locator("#zip-source").inner_text()
    )
    assert page.get_by_role("link", name="Original: connect Freesound").count() == 2

    # Connect: the account page, Freesound's authorize page, "Authorize", back here connected.
    page.get_by_role("link", name="Connect your Freesound account").click()
    page.get_by_role("button", name="Connect Freesound").click()
    page.wait_for_url(f"{fs.url}/apiv2/oauth2/authorize/**")
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"**{reverse('samples:freesound_account')}")
    page.get_by_text("Your Freesound account is connected").wait_for()
    assert FreesoundAccount.objects.filter(user=user).exists()
    assert no_horizontal_overflow(page)

    # Download one original from the pack page.
    page.goto(pack.get_absolute_url())
    assert "original file" in page.locator("#zip-source").inner_text()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download original").first.click()
    download = info.value
    assert download.suggested_filename in {"pad_0_90bpm.wav", "pad_1_90bpm.wav"}
    original = tmp_path / "original.wav"
    download.save_as(original)
    assert original.read_bytes()[:4] == b"RIFF"
    assert no_horizontal_overflow(page)

    # The pack ZIP holds the originals.
    with page.expect_download() as info:
        page.get_by_role("button", name="Download ZIP").click()
    path = tmp_path / "pack.zip"
    info.value.save_as(path)
    archive = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    assert sorted(n for n in archive.namelist() if n.endswith((".wav", ".mp3"))) == [
        "pad_0_90bpm.wav",
        "pad_1_90bpm.wav",
    ]
    assert {s["source"] for s in json.loads(archive.read("pack.json"))["sounds"]} == {"original"}

    # Disconnect, after a confirmation.
    page.goto(reverse("samples:freesound_account"))
    page.get_by_role("link", name="Disconnect…").click()
    page.get_by_role("button", name="Disconnect").click()
    page.get_by_text("disconnected and its tokens deleted").wait_for()
    assert not FreesoundAccount.objects.filter(user=user).exists()
