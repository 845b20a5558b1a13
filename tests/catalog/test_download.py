"""The preview downloader refuses anything but audio from allowed hosts, within limits, with catalog
errors a user can act on. The generic guards are tested with core.http (tests/core/test_http.py)."""

from __future__ import annotations

import pytest

from catalog.download import download_preview
from catalog.errors import DownloadRefused, ProviderUnavailable
from fakeapis.server import Fault

pytestmark = pytest.mark.usefixtures("catalog_settings")


def preview_url(fake_deezer) -> str:
    return fake_deezer.preview_link(fake_deezer.tracks[3135553])


def test_downloads_audio_from_an_allowed_host(fake_deezer, tmp_path):
    path = download_preview(preview_url(fake_deezer), tmp_path / "song")

    assert path == tmp_path / "song"
    assert path.read_bytes()[:4] == b"RIFF"


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/preview.mp3",
        "https://cdnt-preview.dzcdn.net.evil.example.com/x.mp3",
        "http://cdnt-preview.dzcdn.net/api/1/1/x.mp3",  # plain http
        "ftp://127.0.0.1/x.mp3",
        "https://user:pass@cdnt-preview.dzcdn.net/x.mp3",
    ],
)
def test_refuses_hosts_and_schemes_not_allowed(settings, tmp_path, url):
    settings.PREVIEW_ALLOWED_HOSTS = ["cdnt-preview.dzcdn.net", "127.0.0.1"]

    with pytest.raises(DownloadRefused) as caught:
        download_preview(url, tmp_path / "song")

    assert str(caught.value).endswith("Upload the audio instead.")
    assert not (tmp_path / "song").exists()


def test_refuses_a_redirect_to_a_host_not_allowed(fake_deezer, tmp_path):
    fake_deezer.add_fault(
        Fault(302, headers={"Location": "https://evil.example.com/x.mp3"}, path="/preview/")
    )

    with pytest.raises(DownloadRefused, match="not one of the preview servers"):
        download_preview(preview_url(fake_deezer), tmp_path / "song")


def test_refuses_a_redirect_to_another_allowed_host(settings, fake_deezer, fake_itunes, tmp_path):
    settings.PREVIEW_ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    elsewhere = fake_itunes.url.replace("127.0.0.1", "localhost") + "/itunes-assets/a.m4a"
    fake_deezer.add_fault(Fault(302, headers={"Location": elsewhere}, path="/preview/"))

    with pytest.raises(DownloadRefused, match="redirected to another server"):
        download_preview(preview_url(fake_deezer), tmp_path / "song")


def test_follows_a_redirect_on_the_same_host(fake_deezer, tmp_path):
    fake_deezer.add_fault(Fault(302, headers={"Location": preview_url(fake_deezer)}, path="/preview/"))

    assert download_preview(preview_url(fake_deezer), tmp_path / "song").stat().st_size > 1000


def test_refuses_plain_http_to_loopback_outside_tests(settings, fake_deezer, tmp_path):
    settings.PREVIEW_ALLOW_LOOPBACK = False

    with pytest.raises(DownloadRefused, match="https"):
        download_preview(preview_url(fake_deezer), tmp_path / "song")
    assert fake_deezer.calls("/preview/") == []


def test_refuses_an_oversize_body(settings, fake_deezer, tmp_path):
    settings.PREVIEW_MAX_BYTES = 10_000

    with pytest.raises(DownloadRefused, match="larger than a preview"):
        download_preview(preview_url(fake_deezer), tmp_path / "song")
    assert not (tmp_path / "song").exists()


def test_refuses_a_body_that_is_not_audio(fake_deezer, tmp_path):
    page = b"<!doctype html><html><body>" + b"x" * 5000 + b"</body></html>"
    fake_deezer.add_fault(Fault(200, page, {"Content-Type": "audio/mpeg"}, path="/preview/"))

    with pytest.raises(DownloadRefused, match="not audio"):
        download_preview(preview_url(fake_deezer), tmp_path / "song")
    assert not (tmp_path / "song").exists()


def test_slow_server_times_out_as_unavailable(fake_deezer, tmp_path):
    fake_deezer.answer_slowly(3.0, path="/preview/")  # read timeout in catalog_settings: 1 s

    with pytest.raises(ProviderUnavailable):
        download_preview(preview_url(fake_deezer), tmp_path / "song")


def test_server_error_is_unavailable(fake_deezer, tmp_path):
    fake_deezer.answer_5xx(503, path="/preview/")

    with pytest.raises(ProviderUnavailable):
        download_preview(preview_url(fake_deezer), tmp_path / "song")


# --- Issue 18, point 16: the preview downloader gets core.http's port rules (tested there) --------


@pytest.mark.parametrize(
    "url",
    ["https://cdnt-preview.dzcdn.net:6379/x.mp3", "https://cdnt-preview.dzcdn.net:abc/x.mp3"],
)
def test_only_the_standard_port_is_allowed(settings, tmp_path, url):
    settings.PREVIEW_ALLOW_LOOPBACK = False
    settings.PREVIEW_ALLOWED_HOSTS = ["cdnt-preview.dzcdn.net"]

    with pytest.raises(DownloadRefused, match="non-standard port|not a plain web address"):
        download_preview(url, tmp_path / "song")


def test_refuses_a_same_host_redirect_to_another_port(fake_deezer, fake_itunes, tmp_path):
    other_port = fake_itunes.url + "/itunes-assets/a.m4a"  # also 127.0.0.1, another port
    assert other_port.startswith("http://127.0.0.1:")
    fake_deezer.add_fault(Fault(302, headers={"Location": other_port}, path="/preview/"))

    with pytest.raises(DownloadRefused, match="redirected to another server"):
        download_preview(preview_url(fake_deezer), tmp_path / "song")
    assert fake_itunes.calls("/itunes-assets/") == []
