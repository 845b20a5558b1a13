"""Who is asking: the client's address, as far as the deployment's proxies can vouch for it.

By default it is REMOTE_ADDR. Behind reverse proxies every request comes from the proxy, so all
users would share one address (and one rate limit); TRUSTED_PROXY_COUNT says how many proxies
stand in front of the site, and the address is read from the header they append to
(TRUSTED_PROXY_HEADER, X-Forwarded-For by default). Only the entries our own proxies added are
believed: counting from the right, the one the outermost trusted proxy saw. Anything a client
wrote into the header itself sits further left and is ignored.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    header = request.META.get(settings.TRUSTED_PROXY_HEADER, "")
    hops = [hop.strip() for hop in header.split(",") if hop.strip()]
    if not hops:
        return remote  # not through our proxies (a health check on the private network, say)
    candidate = hops[-proxies] if len(hops) >= proxies else hops[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
