"""Site-wide protections (sevenfour_site.middleware): the body cap (issue 18.3) and the CSP (18.2)."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]

FAR_TOO_LARGE = 500 * 1024 * 1024


class BodyThatMustNotBeRead(io.RawIOBase):
    """A request body of 500 MB that nobody may read: counts what is read, and fails past 64 KB."""

    def __init__(self) -> None:
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self.bytes_read += len(buffer)
        if self.bytes_read > 64 * 1024:
            raise AssertionError("the server read the body of a request it should have refused")
        buffer[:] = b"x" * len(buffer)
        return len(buffer)


def _post_huge(client: Client, path: str, **extra: str):
    body = BodyThatMustNotBeRead()
    # WSGI environ keys, which generic() passes through its **extra (typed as its named options).
    environ: dict[str, Any] = {"CONTENT_LENGTH": str(FAR_TOO_LARGE), "wsgi.input": body, **extra}
    response = client.generic("POST", path, b"", content_type="multipart/form-data; boundary=xyz", **environ)
    return response, body


def test_an_anonymous_huge_post_with_a_csrf_cookie_is_refused_unread():
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = "a" * 32

    response, body = _post_huge(client, reverse("predictions:create_from_upload"))

    assert response.status_code == 413
    assert body.bytes_read == 0
    assert "larger than the site accepts (25.1\xa0MB at most)" in response.content.decode()
    assert "script-src 'self'" in response["Content-Security-Policy"]


def _header(html: str) -> str:
    return html.split('<header class="topbar">', 1)[1].split("</header>", 1)[0]


def test_a_signed_in_users_refusal_page_has_their_header_not_the_signed_out_one(client, user):
    """Issue 26.9: the 413 page was rendered without the request, so it offered "Sign in"."""
    client.force_login(user)

    response, body = _post_huge(client, reverse("predictions:create_from_upload"))

    assert response.status_code == 413
    assert body.bytes_read == 0
    header = _header(response.content.decode())
    assert "<summary>ada</summary>" in header
    assert "New prediction" in header
    assert "Sign in" not in header


def test_a_signed_out_refusal_page_offers_to_sign_in():
    response, _ = _post_huge(Client(), reverse("predictions:create_from_upload"))

    assert "Sign in" in _header(response.content.decode())


def test_the_api_gets_the_refusal_in_its_error_shape(client, user):
    client.force_login(user)

    response, body = _post_huge(client, "/api/v1/predictions/", HTTP_ACCEPT="application/json")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert body.bytes_read == 0


def test_a_body_within_the_cap_goes_through(client, user, settings):
    client.force_login(user)

    response = client.post(reverse("predictions:create_from_upload"), {"file": io.BytesIO(b"not audio")})

    assert response.status_code == 400  # the form's own answer, not the cap's


def test_the_cap_follows_the_upload_limit_plus_room_for_the_form(settings):
    from sevenfour_site.middleware import body_too_large_response

    assert settings.REQUEST_BODY_MAX_BYTES == settings.UPLOAD_MAX_BYTES + 64 * 1024
    assert body_too_large_response("/new/upload/", "", 1000).status_code == 413


# --- Content-Security-Policy and nosniff -------------------------------------------------------


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split("; ")}


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/healthz", "/api/v1/genres/", "/nowhere/"])
def test_every_response_carries_a_strict_policy_and_nosniff(client, path):
    response = client.get(path)

    policy = _policy(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_only_the_api_docs_may_use_inline_styles(client):
    assert "'unsafe-inline'" in _policy(client.get("/api/docs/"))["style-src"]
    assert "'unsafe-inline'" in _policy(client.get("/api/redoc/"))["style-src"]
    assert _policy(client.get("/api/docs/"))["script-src"] == ["'self'"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


@pytest.mark.parametrize(
    "name", ["home", "predictions:new", "predictions:history", "samples:pack_list", "accounts:token_list"]
)
def test_pages_have_no_inline_script_the_policy_would_block(client, user, name):
    client.force_login(user)

    html = client.get(reverse(name)).content.decode()

    assert not INLINE_SCRIPT.search(html)
    assert not INLINE_HANDLER.search(html)


def test_the_swagger_ui_start_up_script_is_a_file(client):
    html = client.get("/api/docs/").content.decode()

    assert not INLINE_SCRIPT.search(html)
    assert client.get("/api/docs/?script").status_code == 200


# --- Through the real server ---------------------------------------------------------------------


@pytest.fixture
def gunicorn_url(tmp_path):
    """The site under gunicorn, as in production, with its temporary files in a folder of its own."""
    import os
    import subprocess
    import sys

    from tests.conftest import _wait_for_port, free_port

    port = free_port()
    temp = tmp_path / "server-tmp"
    temp.mkdir()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sevenfour_site.test_settings", "TMPDIR": str(temp)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "sevenfour_site.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--timeout", "30"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for_port(port, timeout=60)
        yield port, temp
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_gunicorn_answers_413_while_a_500_mb_body_is_still_being_sent(gunicorn_url):
    import socket

    port, temp = gunicorn_url
    head = (
        "POST /new/upload/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Cookie: csrftoken=" + "a" * 32 + "\r\n"
        "Content-Type: multipart/form-data; boundary=xyz\r\n"
        f"Content-Length: {FAR_TOO_LARGE}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(head.encode() + b"x" * (2 * 1024 * 1024))  # 2 MB of the 500 announced, then wait
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    reply = b"".join(chunks).decode("utf-8", "replace")

    assert reply.startswith("HTTP/1.1 413"), reply[:200]
    assert "larger than the site accepts" in reply
    written = sum(path.stat().st_size for path in temp.rglob("*") if path.is_file())
    assert written == 0  # nothing of the body reached the disk (the test broker's empty folders aside)


# --- ASGI: Django reads the body before any middleware, so the cap wraps the application ----------


def _run_asgi(headers: list[tuple[bytes, bytes]], chunk: bytes, chunks: int):
    import asyncio

    from sevenfour_site.asgi import application

    pulled = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": pulled < chunks}

    async def send(message: Mapping[str, Any]) -> None:
        sent.append(dict(message))

    scope = {"type": "http", "method": "POST", "path": "/new/upload/", "query_string": b"",
             "headers": [(b"host", b"testserver"), *headers], "http_version": "1.1", "scheme": "http",
             "server": ("testserver", 80), "client": ("127.0.0.1", 5000), "root_path": ""}  # fmt: skip
    asyncio.run(application(scope, receive, send))
    return sent[0]["status"], pulled


def test_asgi_refuses_a_declared_length_without_reading(settings):
    status, pulled = _run_asgi([(b"content-length", str(FAR_TOO_LARGE).encode())], b"x" * 65536, 8000)

    assert (status, pulled) == (413, 0)


def test_the_asgi_refusal_page_claims_nobody_is_signed_out():
    """Before Django has a request the user is unknown: the header offers neither "Sign in" nor a menu."""
    from sevenfour_site.middleware import body_too_large_response

    header = _header(body_too_large_response("/new/upload/", "text/html", 1000).content.decode())

    assert "Sign in" not in header
    assert "Sign up" not in header
    assert "New prediction" not in header


def test_asgi_stops_a_chunked_body_as_soon_as_it_passes_the_cap(settings):
    settings.REQUEST_BODY_MAX_BYTES = 4 * 1024 * 1024
    one_mb = b"x" * (1024 * 1024)

    status, pulled = _run_asgi([(b"transfer-encoding", b"chunked")], one_mb, 500)  # 500 MB offered

    assert status == 413
    assert pulled == 5  # the first chunk past 4 MB
