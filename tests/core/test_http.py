"""The guarded download: allowed hosts and schemes, public addresses only, same-host redirects,
size cap, timeouts and the first-bytes check, against a real local HTTP server."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.http import (
    BadStatus,
    DownloadFailed,
    DownloadPolicy,
    DownloadRefused,
    check_url,
    download_bytes,
    download_to_file,
    host_allowed,
    retry_after_seconds,
    url_allowed,
)
from tests.conftest import free_port

DRIP_ABANDONED = threading.Event()
BODY = b"ID3" + bytes(range(256)) * 20  # 5,123 bytes


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.0: a body without Content-Length simply runs until the connection closes."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        port = self.headers.get("Host", "").rpartition(":")[2]
        routes: dict[str, Callable[[], None]] = {
            "/ok": lambda: self._send(200, BODY),
            "/undeclared": lambda: self._send(200, BODY, declare_length=False),
            "/html": lambda: self._send(200, b"<!doctype html><html>" + b"x" * 100),
            "/tiny": lambda: self._send(200, b"ID"),
            "/drip": self._drip,
            "/slow": self._slow,
            "/busy": lambda: self._send(429, b"busy", headers={"Retry-After": "7"}),
            "/gone": lambda: self._send(404, b"gone"),
            "/same-host": lambda: self._send(302, b"", headers={"Location": "/ok"}),
            "/loop": lambda: self._send(302, b"", headers={"Location": "/loop"}),
            "/other-host": lambda: self._send(302, b"", headers={"Location": f"http://localhost:{port}/ok"}),
        }
        routes.get(self.path, lambda: self._send(404, b""))()

    def _send(
        self, status: int, body: bytes, *, declare_length: bool = True, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if declare_length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drip(self) -> None:
        """Two seconds of 200-byte sips (4 KB in all: less than one read chunk)."""
        self.send_response(200)
        self.end_headers()
        try:
            for _ in range(20):
                self.wfile.write(BODY[:200])
                self.wfile.flush()
                time.sleep(0.1)
        except (BrokenPipeError, ConnectionResetError):
            DRIP_ABANDONED.set()  # the client gave up before the end, as it should

    def _slow(self) -> None:
        time.sleep(1.5)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._send(200, BODY)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def starts_with_id3(head: bytes) -> bool:
    return head.startswith(b"ID3")


POLICY = DownloadPolicy(
    allowed_hosts=["127.0.0.1", "localhost"],
    max_bytes=100_000,
    connect_timeout=1.0,
    read_timeout=0.5,
    total_timeout=5.0,
    allow_loopback=True,
    label="sample",
    head_bytes=3,
    head_check=starts_with_id3,
    head_label="an MP3",
)


# --- Fetching ---------------------------------------------------------------------------------


def test_downloads_into_memory_and_into_a_file(server, tmp_path):
    assert download_bytes(f"{server}/ok", POLICY) == BODY

    path = download_to_file(f"{server}/ok", tmp_path / "x.mp3", POLICY)

    assert path.read_bytes() == BODY


def test_follows_a_redirect_on_the_same_host(server):
    assert download_bytes(f"{server}/same-host", POLICY) == BODY


# --- Where it may connect ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://evil.example.com/x.mp3", "not one of the sample servers"),
        ("https://127.0.0.1.evil.example.com/x.mp3", "not one of the sample servers"),
        ("http://example.com/x.mp3", "https"),  # plain http beyond loopback
        ("ftp://127.0.0.1/x.mp3", "https"),
        ("https://user:pass@127.0.0.1/x.mp3", "plain web address"),
        ("https://127.0.0.1:99999/x.mp3", "plain web address"),
        ("not a url", "plain web address"),
    ],
)
def test_refuses_hosts_schemes_and_odd_urls(url, reason):
    with pytest.raises(DownloadRefused, match=reason):
        download_bytes(url, POLICY)
    assert not url_allowed(url, POLICY)


def test_url_allowed_checks_the_text_without_resolving_the_name():
    policy = replace(POLICY, allowed_hosts=["cdn.example.org"], allow_loopback=False)

    assert url_allowed("https://cdn.example.org/a.mp3", policy)
    assert not url_allowed("http://cdn.example.org/a.mp3", policy)
    assert not url_allowed("http://127.0.0.1/a.mp3", policy)


def test_wildcard_host_patterns_match_one_cdn_family():
    patterns = ["cdns-preview-*.dzcdn.net"]

    assert host_allowed("cdns-preview-d.dzcdn.net", patterns)
    assert not host_allowed("cdns-preview-d.dzcdn.net.evil.com", patterns)
    assert not host_allowed("dzcdn.net", patterns)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/x.mp3",
        "https://10.0.0.8/x.mp3",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/x.mp3",
        "https://localhost/x.mp3",
    ],
)
def test_refuses_private_and_loopback_addresses_unless_loopback_is_allowed(url):
    policy = replace(POLICY, allowed_hosts=["*"], allow_loopback=False)  # even when every host is allowed

    with pytest.raises(DownloadRefused, match="private network"):
        check_url(url, policy)


def test_refuses_plain_http_to_loopback_unless_allowed(server):
    with pytest.raises(DownloadRefused, match="https"):
        download_bytes(f"{server}/ok", replace(POLICY, allow_loopback=False))


def test_refuses_a_redirect_to_another_host(server):
    with pytest.raises(DownloadRefused, match="redirected to another server"):
        download_bytes(f"{server}/other-host", POLICY)


def test_refuses_endless_redirects_and_any_when_none_are_allowed(server):
    with pytest.raises(DownloadRefused, match="too many times"):
        download_bytes(f"{server}/loop", POLICY)
    with pytest.raises(DownloadRefused, match="too many times"):
        download_bytes(f"{server}/same-host", replace(POLICY, max_redirects=0))


# --- What it accepts --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/ok", "/undeclared"])
def test_refuses_a_body_over_the_cap_with_or_without_content_length(server, tmp_path, path):
    small = replace(POLICY, max_bytes=1000)

    with pytest.raises(DownloadRefused, match="larger than a sample should be"):
        download_to_file(f"{server}{path}", tmp_path / "x.mp3", small)
    assert not (tmp_path / "x.mp3").exists()


def test_refuses_a_body_whose_first_bytes_fail_the_check(server, tmp_path):
    with pytest.raises(DownloadRefused, match="not an MP3"):
        download_to_file(f"{server}/html", tmp_path / "x.mp3", POLICY)
    assert not (tmp_path / "x.mp3").exists()


def test_checks_a_body_shorter_than_the_head(server):
    with pytest.raises(DownloadRefused, match="not an MP3"):
        download_bytes(f"{server}/tiny", POLICY)


def test_without_a_head_check_any_body_is_accepted(server):
    assert download_bytes(f"{server}/html", replace(POLICY, head_check=None)).startswith(b"<!doctype")


# --- Failures ---------------------------------------------------------------------------------


def test_a_slow_answer_fails_at_the_read_timeout(server):
    # The server does answer, after 1.5 s: only the 0.5 s read timeout makes this fail.
    with pytest.raises(DownloadFailed):
        download_bytes(f"{server}/slow", POLICY)


def test_a_slow_drip_fails_at_the_overall_deadline(server):
    DRIP_ABANDONED.clear()

    with pytest.raises(DownloadFailed, match="took too long"):
        download_bytes(f"{server}/drip", replace(POLICY, total_timeout=0.5))
    # Each sip is checked against the deadline as it comes, not once a whole chunk has arrived.
    assert DRIP_ABANDONED.wait(timeout=5)


def test_a_refused_connection_fails():
    with pytest.raises(DownloadFailed):
        download_bytes(f"http://127.0.0.1:{free_port()}/ok", POLICY)


def test_other_statuses_are_reported_with_retry_after(server):
    with pytest.raises(BadStatus) as busy:
        download_bytes(f"{server}/busy", POLICY)
    with pytest.raises(BadStatus) as gone:
        download_bytes(f"{server}/gone", POLICY)

    assert (busy.value.status, busy.value.retry_after) == (429, 7)
    assert (gone.value.status, gone.value.retry_after) == (404, None)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [(None, None), ("", None), ("12", 12), ("2.5", 2), ("-3", 0), ("Wed, 21 Oct", None)],
)
def test_retry_after_seconds(header, seconds):
    assert retry_after_seconds(header) == seconds
