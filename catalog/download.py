"""Download a preview safely: the URL comes from a third party, so treat it as hostile.

* https only, to hosts in settings.PREVIEW_ALLOWED_HOSTS (plain http to loopback only when
  PREVIEW_ALLOW_LOOPBACK is on, for the fake servers in tests);
* only the standard port (443; any port only for loopback in tests);
* every address the host resolves to must be public (no SSRF into the private network), and so
  must any IPv4 address embedded in an IPv6 one (NAT64, 6to4, Teredo, IPv4-mapped/compatible);
* redirects are followed by hand, only to the same scheme, host and port, and checked again;
* connect/read timeouts plus a deadline for the whole body, a size cap, and the first bytes must
  be audio.

Known gap: the name is resolved again by requests when it connects, so a DNS answer that changes
in between (rebinding) is not caught; the host allow-list is what really limits where we connect.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import logging
import socket
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings

from ._http import retry_after_seconds
from .errors import DownloadRefused, NoPreview, PreviewExpired, ProviderUnavailable, RateLimited
from .sniff import HEAD_BYTES, detect_audio_format

log = logging.getLogger(__name__)

MAX_REDIRECTS = 3
STANDARD_PORTS = {"https": 443, "http": 80}
# NAT64 prefixes (RFC 6052 well-known, RFC 8215 local-use): the last 32 bits are an IPv4 address.
NAT64_PREFIXES = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
# IPv4-compatible IPv6 addresses (deprecated ::a.b.c.d), which some stacks still route as IPv4.
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Small chunks so that the overall deadline is checked often, even on a slow drip.
CHUNK = 16 * 1024


def download_preview(url: str, dest_path: Path | str) -> Path:
    """Fetch `url` into `dest_path` and return it; DownloadRefused when a safety check fails."""
    dest = Path(dest_path)
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment may reroute this request
    try:
        response = _get_following_same_host(session, url)
        try:
            _save(response, dest)
        except requests.RequestException as exc:  # read timeout or a cut connection mid-body
            raise ProviderUnavailable("preview", detail=f"{url}: {exc!r}") from exc
        finally:
            response.close()
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    finally:
        session.close()
    return dest


def _get_following_same_host(session: requests.Session, url: str) -> requests.Response:
    check_url(url)
    origin = url_origin(url)
    for _ in range(MAX_REDIRECTS + 1):
        try:
            response = session.get(
                url,
                stream=True,
                allow_redirects=False,
                timeout=(settings.PREVIEW_CONNECT_TIMEOUT, settings.PREVIEW_READ_TIMEOUT),
                headers={"Accept": "audio/*", "User-Agent": "Mozilla/5.0 (compatible; SevenFour/1.0)"},
            )
        except requests.RequestException as exc:
            raise ProviderUnavailable("preview", detail=f"{url}: {exc!r}") from exc
        if not response.is_redirect:
            _raise_for_status(response, url)
            return response
        target = urljoin(url, response.headers.get("Location", ""))
        response.close()
        check_url(target)
        if url_origin(target) != origin:  # another host, or the same host on another port or scheme
            raise DownloadRefused("it redirected to another server.", detail=f"{url} -> {target}")
        url = target
    raise DownloadRefused("it redirected too many times.", detail=url)


def check_url(url: str) -> str:
    """The URL's host name when it may be fetched; DownloadRefused otherwise."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if not host or parts.username or parts.password:
        raise DownloadRefused("the link is not a plain web address.", detail=url)
    loopback_ok = settings.PREVIEW_ALLOW_LOOPBACK and _is_loopback_name(host)
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback_ok):
        raise DownloadRefused("the link is not a secure (https) address.", detail=url)
    if not _host_allowed(host):
        raise DownloadRefused(
            f"{host} is not one of the preview servers Seven/Four downloads from.", detail=url
        )
    try:
        port = parts.port
    except ValueError as exc:  # a port that is not a number, or out of range
        raise DownloadRefused("the link is not a plain web address.", detail=url) from exc
    if not port_allowed(parts.scheme, port, loopback_ok=loopback_ok):
        raise DownloadRefused("the link uses a non-standard port.", detail=url)
    for address in _addresses(host, port or STANDARD_PORTS[parts.scheme]):
        if not address_is_public(address) and not (loopback_ok and address.is_loopback):
            raise DownloadRefused(f"{host} points into a private network.", detail=f"{url} -> {address}")
    return host


def url_origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in: what a redirect must keep."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.scheme, (parts.hostname or "").lower().rstrip("."), port or STANDARD_PORTS.get(parts.scheme)


def port_allowed(scheme: str, port: int | None, *, loopback_ok: bool = False) -> bool:
    """Only the scheme's standard port; the fake servers in tests listen on random loopback ports."""
    return port is None or port == STANDARD_PORTS.get(scheme) or loopback_ok


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (and that a gateway would connect to), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client's address, de-obfuscated by the ipaddress module
    if any(address in prefix for prefix in NAT64_PREFIXES) or (
        address in IPV4_COMPATIBLE and int(address) > 0xFFFF
    ):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_is_public(address: IPAddress) -> bool:
    """Public itself, and so is any IPv4 address it embeds (64:ff9b::7f00:1 is 127.0.0.1)."""
    inner = embedded_ipv4(address)
    return address.is_global and (inner is None or inner.is_global)


def _host_allowed(host: str) -> bool:
    return any(fnmatch.fnmatchcase(host, pattern.lower()) for pattern in settings.PREVIEW_ALLOWED_HOSTS)


def _is_loopback_name(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ProviderUnavailable("preview", detail=f"cannot resolve {host}: {exc}") from exc
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def _raise_for_status(response: requests.Response, url: str) -> None:
    status = response.status_code
    if status < 300:
        return
    response.close()
    detail = f"HTTP {status} for {url}"
    if status in (401, 403, 410):
        # Deezer's signed links answer 403 once expired: the caller resolves a fresh link.
        raise PreviewExpired("preview", detail=detail)
    if status == 404:
        raise NoPreview(provider="preview", detail=detail)
    if status == 429:
        raise RateLimited("preview", retry_after_seconds(response.headers.get("Retry-After")), detail=detail)
    raise ProviderUnavailable("preview", detail=detail)


def _save(response: requests.Response, dest: Path) -> None:
    cap = settings.PREVIEW_MAX_BYTES
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > cap:
        raise DownloadRefused(
            "the file is larger than a preview should be.", detail=f"Content-Length {declared}"
        )
    deadline = time.monotonic() + settings.PREVIEW_TOTAL_TIMEOUT
    size = 0
    head = b""
    with dest.open("wb") as out:
        for chunk in response.iter_content(CHUNK):
            size += len(chunk)
            if size > cap:
                raise DownloadRefused("the file is larger than a preview should be.", detail=f"> {cap} bytes")
            if time.monotonic() > deadline:
                raise ProviderUnavailable("preview", detail="download took longer than PREVIEW_TOTAL_TIMEOUT")
            if len(head) < HEAD_BYTES:
                head += chunk[: HEAD_BYTES - len(head)]
                if len(head) >= HEAD_BYTES:
                    _check_audio(head)
            out.write(chunk)
    _check_audio(head)


def _check_audio(head: bytes) -> None:
    if detect_audio_format(head) is None:
        raise DownloadRefused("the server sent something that is not audio.", detail=repr(head[:16]))
