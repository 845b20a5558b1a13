"""The client address behind zero, one or two trusted proxies, and forged headers."""

from __future__ import annotations

from django.test import RequestFactory

from core.clients import client_address


def request_from(remote: str, forwarded: str | None = None):  # type: ignore[no-untyped-def]
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request_from("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


def test_behind_one_proxy_the_address_it_saw_is_used_and_a_forged_entry_is_not(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client wrote "1.2.3.4" itself; our proxy appended the address it really saw.
    assert client_address(request_from("10.0.0.2", "1.2.3.4, 198.51.100.7")) == "198.51.100.7"


def test_behind_two_proxies_the_outer_one_is_believed(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_address(request_from("10.0.0.3", "6.6.6.6, 198.51.100.7, 10.0.0.2")) == "198.51.100.7"


def test_another_header_name_can_be_configured(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_HEADER = "HTTP_X_REAL_IP"
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_REAL_IP="2001:db8::1")
    assert client_address(request) == "2001:db8::1"


def test_garbage_or_a_missing_header_falls_back_to_the_peer(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(request_from("10.0.0.2", "not-an-ip")) == "10.0.0.2"
    assert client_address(request_from("10.0.0.2")) == "10.0.0.2"
