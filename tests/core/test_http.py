"""The guarded download: allowed hosts and schemes, public addresses only, same-host redirects,
size cap, timeouts and the first-bytes check, against a real local HTTP server."""

from __future__ import annotations

import contextlib
import ipaddress
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
    address_is_public,
    check_url,
    declared_content_length,
    download_bytes,
    download_to_file,
    embedded_ipv4,
    host_allowed,
    port_allowed,
    retry_after_seconds,
    url_allowed,
    url_origin,
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
            # Unicode digits, which str.isdigit() takes and int() refuses (latin-1 on the wire).
            "/odd-length": lambda: self._send(
                200, BODY, declare_length=False, headers={"Content-Length": "²"}
            ),
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
        if self.path.startswith("/to-port/"):  # /to-port/8081: the same host on another port
            other = self.path.removeprefix("/to-port/")
            self._send(302, b"", headers={"Location": f"http://127.0.0.1:{other}/ok"})
            return
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


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serving(Handler) as url:
        yield url


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


class CountingHandler(Handler):
    """A second server on the same host: it must never be asked for anything."""

    requests_seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.requests_seen.append(self.path)
        super().do_GET()


def test_refuses_a_redirect_to_the_same_host_on_another_port(server):
    CountingHandler.requests_seen.clear()
    with serving(CountingHandler) as other:
        other_port = other.rpartition(":")[2]

        with pytest.raises(DownloadRefused, match="redirected to another server"):
            download_bytes(f"{server}/to-port/{other_port}", POLICY)

    assert CountingHandler.requests_seen == []


def test_refuses_endless_redirects_and_any_when_none_are_allowed(server):
    with pytest.raises(DownloadRefused, match="too many times"):
        download_bytes(f"{server}/loop", POLICY)
    with pytest.raises(DownloadRefused, match="too many times"):
        download_bytes(f"{server}/same-host", replace(POLICY, max_redirects=0))


# --- Issue 18, point 16: ports and IPv4 addresses embedded in IPv6 ones ----------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.example.org:8443/x.mp3",
        "https://cdn.example.org:22/x.mp3",
        "https://cdn.example.org:6379/x.mp3",
        "http://cdn.example.org:443/x.mp3",  # plain http is refused anyway
    ],
)
def test_only_the_standard_port_is_allowed_beyond_loopback(url):
    policy = replace(POLICY, allowed_hosts=["cdn.example.org"], allow_loopback=False)

    with pytest.raises(DownloadRefused, match="non-standard port|https"):
        check_url(url, policy)
    assert not url_allowed(url, policy)
    assert url_allowed("https://cdn.example.org:443/x.mp3", policy)


def test_port_allowed_and_url_origin():
    assert port_allowed("https", None)
    assert port_allowed("https", 443)
    assert not port_allowed("https", 80)
    assert port_allowed("http", 8081, loopback_ok=True)
    assert url_origin("https://a.example/x") == url_origin("https://A.example.:443/y")
    assert url_origin("https://a.example/x") != url_origin("https://a.example:8443/x")
    assert url_origin("https://a.example/x") != url_origin("http://a.example/x")


@pytest.mark.parametrize(
    ("address", "inner"),
    [
        ("64:ff9b::7f00:1", "127.0.0.1"),  # NAT64 (well-known prefix)
        ("64:ff9b::a9fe:a9fe", "169.254.169.254"),  # NAT64 of the cloud metadata service
        ("64:ff9b:1::a00:8", "10.0.0.8"),  # local-use NAT64
        ("2002:7f00:1::1", "127.0.0.1"),  # 6to4
        ("2002:c0a8:101::1", "192.168.1.1"),  # 6to4
        ("::ffff:127.0.0.1", "127.0.0.1"),  # IPv4-mapped
        ("::127.0.0.1", "127.0.0.1"),  # IPv4-compatible (deprecated)
    ],
)
def test_an_ipv6_address_embedding_a_private_ipv4_is_not_public(address, inner):
    assert embedded_ipv4(ipaddress.ip_address(address)) == ipaddress.IPv4Address(inner)
    assert not address_is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["2606:4700::1111", "64:ff9b::808:808", "2002:808:808::1", "8.8.8.8"])
def test_public_addresses_stay_public(address):
    assert address_is_public(ipaddress.ip_address(address))


def test_plain_ipv6_and_ipv4_addresses_embed_nothing():
    assert embedded_ipv4(ipaddress.ip_address("2606:4700::1111")) is None
    assert embedded_ipv4(ipaddress.ip_address("::1")) is None
    assert embedded_ipv4(ipaddress.ip_address("8.8.8.8")) is None


@pytest.mark.parametrize("address", ["64:ff9b::7f00:1", "2002:7f00:1::1"])
def test_a_host_resolving_to_nat64_or_6to4_loopback_is_refused(monkeypatch, address):
    policy = replace(POLICY, allowed_hosts=["cdn.example.org"], allow_loopback=False)
    # DNS is the only thing faked: the host answers with an IPv6 address that embeds 127.0.0.1.
    monkeypatch.setattr(
        "core.http.socket.getaddrinfo",
        lambda host, port, **kwargs: [(10, 1, 6, "", (address, port, 0, 0))],
    )

    with pytest.raises(DownloadRefused, match="private network"):
        download_bytes("https://cdn.example.org/x.mp3", policy)


# --- What it accepts --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/ok", "/undeclared"])
def test_refuses_a_body_over_the_cap_with_or_without_content_length(server, tmp_path, path):
    small = replace(POLICY, max_bytes=1000)

    with pytest.raises(DownloadRefused, match="larger than a sample should be"):
        download_to_file(f"{server}{path}", tmp_path / "x.mp3", small)
    assert not (tmp_path / "x.mp3").exists()


def test_a_nonsense_content_length_is_ignored_and_the_body_counted(server):
    assert download_bytes(f"{server}/odd-length", POLICY) == BODY
    with pytest.raises(DownloadRefused, match="larger than a sample should be"):
        download_bytes(f"{server}/odd-length", replace(POLICY, max_bytes=1000))


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
    ("header", "length"),
    [("123", 123), (" 42 ", 42), ("", None), (None, None), ("12a", None), ("²", None), ("-1", None)],
)
def test_declared_content_length_reads_str_and_bytes_alike(header, length):
    assert declared_content_length(header) == length  # WSGI's META value, a response header
    encoded = header.encode("latin-1") if header is not None else None
    assert declared_content_length(encoded) == length  # an ASGI server's raw header


@pytest.mark.parametrize(
    ("header", "seconds"),
    [(None, None), ("", None), ("12", 12), ("2.5", 2), ("-3", 0), ("Wed, 21 Oct", None)],
)
def test_retry_after_seconds(header, seconds):
    assert retry_after_seconds(header) == seconds
