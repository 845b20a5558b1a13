"""Guarded HTTP downloads of URLs that come from a third party, so treated as hostile.

* https only, to hosts matching the policy's allow-list (plain http to loopback only when
  `allow_loopback` is on, for the fake servers in tests);
* only the scheme's standard port (443; any port only for loopback when that is allowed);
* every address the host resolves to must be public (no request forgery into the private network),
  and so must any IPv4 address embedded in an IPv6 one (NAT64, 6to4, Teredo, IPv4-mapped or
  -compatible), since a gateway would connect to that;
* redirects are followed by hand, only to the same scheme, host and port, and checked again;
* connect/read timeouts plus a deadline for the whole body, a size cap, and optionally a check
  of the first bytes (for example "is this audio").

Known gap: the name is resolved again by requests when it connects, so a DNS answer that changes
in between (rebinding) is not caught; the host allow-list is what really limits where we connect.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

USER_AGENT = "Mozilla/5.0 (compatible; SevenFour/1.0)"
CHUNK = 16 * 1024

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

STANDARD_PORTS = {"https": 443, "http": 80}
# NAT64 prefixes (RFC 6052 well-known, RFC 8215 local-use): the last 32 bits are an IPv4 address.
NAT64_PREFIXES = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
# IPv4-compatible IPv6 addresses (deprecated ::a.b.c.d), which some stacks still route as IPv4.
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


@dataclass(frozen=True)
class DownloadPolicy:
    allowed_hosts: Sequence[str]  # shell-style patterns, e.g. "cdns-preview-*.dzcdn.net"
    max_bytes: int
    connect_timeout: float
    read_timeout: float
    total_timeout: float
    allow_loopback: bool = False  # plain http and loopback addresses: the local fakes in tests
    max_redirects: int = 3  # to the same scheme, host and port only
    label: str = "file"  # in refusals: "… larger than a {label} should be"
    accept: str = "*/*"
    head_bytes: int = 0  # how many first bytes `head_check` needs
    head_check: Callable[[bytes], bool] | None = None
    head_label: str = "the expected kind of file"  # in refusals: "… something that is not {head_label}"


class DownloadError(Exception):
    """Base class. `str()` says what went wrong in words for a user; `detail` is for the log."""

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class DownloadRefused(DownloadError):
    """A safety check failed: host, scheme, address, redirect, size or content."""


class DownloadFailed(DownloadError):
    """The server could not be reached, was too slow, or cut the connection."""


class BadStatus(DownloadError):
    """The server answered with a status other than 2xx (redirects are handled before)."""

    def __init__(self, status: int, *, retry_after: int | None, detail: str) -> None:
        super().__init__(f"the server answered HTTP {status}", detail=detail)
        self.status = status
        self.retry_after = retry_after


def retry_after_seconds(value: str | None) -> int | None:
    """A Retry-After header in seconds; None when absent or an HTTP date (rare enough to ignore)."""
    try:
        return max(0, int(float(value))) if value else None
    except ValueError:
        return None


def declared_content_length(header: str | bytes | None) -> int | None:
    """The length a Content-Length header declares (str, or an ASGI server's bytes); None when
    there is none, or nonsense. ASCII digits only: headers arrive as latin-1, and str.isdigit()
    also takes "²", which int() refuses. Our downloads, and the site's body caps, read it here."""
    value = (header.decode("latin-1") if isinstance(header, bytes) else header or "").strip()
    if not value or not value.isascii() or not value.isdigit():
        return None
    return int(value)


def download_to_file(
    url: str, dest: Path | str, policy: DownloadPolicy, *, headers: Mapping[str, str] | None = None
) -> Path:
    """Fetch `url` into `dest` and return it; nothing is left at `dest` when anything fails.
    `headers` are sent with the request, and with a redirect only to the same origin (an
    Authorization header never leaves the host it was meant for)."""
    path = Path(dest)
    try:
        with path.open("wb") as out:
            for chunk in _stream(url, policy, headers=headers):
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def download_bytes(url: str, policy: DownloadPolicy) -> bytes:
    """The body of `url`, held in memory (so keep `max_bytes` small)."""
    return b"".join(_stream(url, policy))


def check_url(url: str, policy: DownloadPolicy) -> str:
    """The URL's host name when it may be fetched; DownloadRefused otherwise."""
    host, port, loopback_ok = _check_address_form(url, policy)
    for address in _addresses(host, port):
        if not address_is_public(address) and not (loopback_ok and address.is_loopback):
            raise DownloadRefused(f"{host} points into a private network.", detail=f"{url} -> {address}")
    return host


def url_allowed(url: str, policy: DownloadPolicy) -> bool:
    """Whether scheme, host and port pass, without resolving the name (the download checks
    addresses too)."""
    try:
        _check_address_form(url, policy)
    except DownloadRefused:
        return False
    return True


def _check_address_form(url: str, policy: DownloadPolicy) -> tuple[str, int, bool]:
    """Host, port and whether loopback is allowed for this URL, from its text alone."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError as exc:
        raise DownloadRefused("the link is not a plain web address.", detail=url) from exc
    host = (parts.hostname or "").lower().rstrip(".")
    if not host or parts.username or parts.password:
        raise DownloadRefused("the link is not a plain web address.", detail=url)
    loopback_ok = policy.allow_loopback and _is_loopback_name(host)
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback_ok):
        raise DownloadRefused("the link is not a secure (https) address.", detail=url)
    if not host_allowed(host, policy.allowed_hosts):
        raise DownloadRefused(
            f"{host} is not one of the {policy.label} servers Seven/Four downloads from.", detail=url
        )
    if not port_allowed(parts.scheme, port, loopback_ok=loopback_ok):
        raise DownloadRefused("the link uses a non-standard port.", detail=url)
    return host, port or STANDARD_PORTS[parts.scheme], loopback_ok


def port_allowed(scheme: str, port: int | None, *, loopback_ok: bool = False) -> bool:
    """Only the scheme's standard port: an allowed host's other ports (SSH, Redis, an admin
    console) are no preview server. The fake servers in tests listen on random loopback ports."""
    return port is None or port == STANDARD_PORTS.get(scheme) or loopback_ok


def url_origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in: what a redirect must keep."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.scheme, (parts.hostname or "").lower().rstrip("."), port or STANDARD_PORTS.get(parts.scheme)


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
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


def address_is_public(address: Address) -> bool:
    """Public itself, and so is any IPv4 address it embeds (64:ff9b::7f00:1 is 127.0.0.1)."""
    inner = embedded_ipv4(address)
    return address.is_global and (inner is None or inner.is_global)


def host_allowed(host: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(host, pattern.lower()) for pattern in patterns)


def _is_loopback_name(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _addresses(host: str, port: int) -> list[Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise DownloadFailed(f"cannot resolve {host}", detail=f"cannot resolve {host}: {exc}") from exc
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def _stream(url: str, policy: DownloadPolicy, *, headers: Mapping[str, str] | None = None) -> Iterator[bytes]:
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment (or .netrc) may reroute or sign this request
    try:
        response = _get_following_same_host(session, url, policy, headers=headers)
        try:
            yield from _checked_body(response, policy)
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:  # timeout or cut mid-body
            raise DownloadFailed("the download was cut off", detail=f"{url}: {exc!r}") from exc
        finally:
            response.close()
    finally:
        session.close()


def _get_following_same_host(
    session: requests.Session, url: str, policy: DownloadPolicy, *, headers: Mapping[str, str] | None = None
) -> requests.Response:
    check_url(url, policy)
    origin = url_origin(url)
    for _ in range(policy.max_redirects + 1):
        try:
            response = session.get(
                url,
                stream=True,
                allow_redirects=False,
                timeout=(policy.connect_timeout, policy.read_timeout),
                headers={"Accept": policy.accept, "User-Agent": USER_AGENT, **(headers or {})},
            )
        except requests.RequestException as exc:
            raise DownloadFailed("the server did not answer", detail=f"{url}: {exc!r}") from exc
        if not response.is_redirect:
            _raise_for_status(response, url)
            return response
        target = urljoin(url, response.headers.get("Location", ""))
        response.close()
        check_url(target, policy)
        if url_origin(target) != origin:  # another host, or the same host on another port or scheme
            raise DownloadRefused("it redirected to another server.", detail=f"{url} -> {target}")
        url = target
    raise DownloadRefused("it redirected too many times.", detail=url)


def _raise_for_status(response: requests.Response, url: str) -> None:
    status = response.status_code
    if status < 300:
        return
    response.close()
    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
    raise BadStatus(status, retry_after=retry_after, detail=f"HTTP {status} for {url}")


def _checked_body(response: requests.Response, policy: DownloadPolicy) -> Iterator[bytes]:
    too_large = f"the file is larger than a {policy.label} should be."
    declared = declared_content_length(response.headers.get("Content-Length"))
    if declared is not None and declared > policy.max_bytes:
        raise DownloadRefused(too_large, detail=f"Content-Length {declared}")
    deadline = time.monotonic() + policy.total_timeout
    size = 0
    head = b""
    for chunk in _chunks_as_they_come(response):
        size += len(chunk)
        if size > policy.max_bytes:
            raise DownloadRefused(too_large, detail=f"> {policy.max_bytes} bytes")
        if time.monotonic() > deadline:
            raise DownloadFailed("the download took too long", detail=f"over {policy.total_timeout} s")
        if len(head) < policy.head_bytes:
            head += chunk[: policy.head_bytes - len(head)]
            if len(head) >= policy.head_bytes:
                _check_head(head, policy)
        yield chunk
    if len(head) < policy.head_bytes:  # a body shorter than the head: check what there is
        _check_head(head, policy)


def _chunks_as_they_come(response: requests.Response) -> Iterator[bytes]:
    # read1() returns what one read brought, where iter_content() waits for a full chunk: so the
    # overall deadline is checked after every read, and a slow drip cannot outlast it.
    while chunk := response.raw.read1(CHUNK, decode_content=True):
        yield chunk


def _check_head(head: bytes, policy: DownloadPolicy) -> None:
    if policy.head_check is not None and not policy.head_check(head):
        raise DownloadRefused(
            f"the server sent something that is not {policy.head_label}.", detail=repr(head[:16])
        )
