"""Site-wide protections that must act on every request: the body cap, NUL-free query parameters
and the security policy.

Both live here rather than in an app because they wrap the whole site, whatever app answers.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string

from api.exceptions import error_body
from core.http import declared_content_length
from predictions.uploads import TOO_LARGE_HINT

GetResponse = Callable[[HttpRequest], HttpResponse]


# --- Request body cap ---------------------------------------------------------------------------


def body_too_large_response(
    request_path: str, accept: str, limit: int, request: HttpRequest | None = None
) -> HttpResponse:
    """The 413 answer. With the request (the middleware, where the session and user are known) the
    page has the header of whoever is signed in; without it (the ASGI wrapper, before Django has a
    request) the header offers neither signing in nor the signed-in menu."""
    message = (
        f"This request is larger than the site accepts ({filesizeformat(limit)} at most). {TOO_LARGE_HINT}"
    )
    if request_path.startswith("/api/") or "application/json" in accept:
        response: HttpResponse = JsonResponse(error_body("request_too_large", message), status=413)
    else:
        context = {"message": message, "user_unknown": request is None}
        html = render_to_string("errors/413.html", context, request=request)
        response = HttpResponse(html, status=413)
    return response


class RequestBodyLimitMiddleware:
    """Refuse a request whose declared body is over REQUEST_BODY_MAX_BYTES, before anything reads it.

    It comes after the session and authentication middleware, which never read the body, so that
    the 413 page shows the signed-in user's header; CsrfViewMiddleware reads request.POST (the whole
    body, into a temporary file) only in process_view, which runs after every middleware's
    __call__ has passed the request on, so this refuses it first. Under WSGI a body without a
    Content-Length (chunked) is never read by Django at all; under ASGI, sevenfour_site.asgi caps
    the body as it streams in, because Django's ASGI handler reads it before any middleware runs.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.REQUEST_BODY_MAX_BYTES
        declared = declared_content_length(request.META.get("CONTENT_LENGTH"))
        if declared is not None and declared > limit:
            accept = request.META.get("HTTP_ACCEPT", "")
            return body_too_large_response(request.path, accept, limit, request)
        return self.get_response(request)


# --- NUL in the query string ----------------------------------------------------------------------


def query_without_nul(query: QueryDict) -> QueryDict | None:
    """The query parameters with every NUL byte taken out of names and values, or None if there
    was none (the common case: nothing is copied)."""
    if not any("\x00" in key or any("\x00" in value for value in values) for key, values in query.lists()):
        return None
    cleaned = QueryDict(mutable=True)
    for key, values in query.lists():
        for value in values:
            cleaned.appendlist(key.replace("\x00", ""), value.replace("\x00", ""))
    cleaned._mutable = False
    return cleaned


class NulStripMiddleware:
    """Take NUL bytes out of the query parameters before any view reads them.

    PostgreSQL refuses NUL in a string, so `?q=%00` on history, the admin's search or a list filter
    reached the database and came back a 500 (SQLite, the tests' default, stores it). No parameter
    has a use for NUL, and forms already refuse it in a body (Django's and DRF's CharField), so it
    goes here, once, for every view: `?q=rock%00` searches for "rock", `?genre=%00` is no filter.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (cleaned := query_without_nul(request.GET)) is not None:
            request.GET = cleaned  # type: ignore[assignment]  # the stubs type it as their private immutable class
        return self.get_response(request)


# --- Content-Security-Policy --------------------------------------------------------------------


def render_policy(directives: dict[str, list[str]]) -> str:
    return "; ".join(f"{name} {' '.join(sources)}".strip() for name, sources in directives.items())


# With PREVIEW_ALLOW_LOOPBACK (tests only) the fake catalogs serve art and audio over plain http.
LOOPBACK_SOURCES = ["http://127.0.0.1:*", "http://localhost:*"]


def policy_for_path(path: str) -> str:
    """The site policy, with the extra sources CSP_PATH_EXTRA allows under some paths (the API docs)."""
    directives = {name: list(sources) for name, sources in settings.CONTENT_SECURITY_POLICY.items()}
    extras = [extra for prefix, extra in settings.CSP_PATH_EXTRA.items() if path.startswith(prefix)]
    if settings.PREVIEW_ALLOW_LOOPBACK:
        extras.append({"img-src": LOOPBACK_SOURCES, "media-src": LOOPBACK_SOURCES})
    for extra in extras:
        for name, sources in extra.items():
            current = directives.setdefault(name, [])
            current.extend(source for source in sources if source not in current)
    return render_policy(directives)


class ContentSecurityPolicyMiddleware:
    """Send the site's Content-Security-Policy on every response that has none of its own.

    Everything the site needs is served from its own origin, so scripts may come only from there:
    an injected <script> or inline handler never runs."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy_for_path(request.path)
        return response
