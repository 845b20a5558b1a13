"""The New prediction page: find a song in a catalog (artist → albums → tracks) or upload a file,
and the two forms that create the prediction from it.

Every view renders the whole page; htmx requests get only the #catalog-browser fragment, so
links and forms work the same with and without JavaScript.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedHttpRequest
from accounts.ratelimit import throttle
from catalog import services as catalog_services
from catalog.errors import CatalogError, NoPreview, NotFound, RateLimited, provider_label
from catalog.previews import resolve_preview_url
from catalog.providers import available_providers, default_provider_name, get_provider

from . import services
from .forms import PickForm, SearchForm, UploadForm
from .uploads import (
    ACCEPTED,
    STORAGE_RETRY_AFTER,
    STORAGE_UNAVAILABLE,
    StorageRefused,
    upload_declared_too_large,
    upload_limit_label,
)

log = logging.getLogger(__name__)

BROWSER = "predictions/includes/catalog_browser.html"


# ASCII digits only: str.isdigit() also accepts "²", which int() then refuses (a 500).
OFFSET = re.compile(r"[0-9]{1,6}")
ARTIST_ID = re.compile(r"[0-9A-Za-z]{1,40}")


def _offset(request: HttpRequest) -> int:
    value = request.GET.get("offset", "0")
    return min(int(value), 1000) if OFFSET.fullmatch(value) else 0


def render_new_page(request: AuthenticatedHttpRequest, context: dict, *, status: int = 200) -> HttpResponse:
    providers = available_providers()
    provider = context.get("provider") or default_provider_name()
    base = {
        "tab": "find",
        "providers": providers,
        "provider": provider,
        "provider_label": get_provider_label(provider),
        "search_form": context.pop("search_form", None) or SearchForm(initial={"provider": provider}),
        "upload_form": context.pop("upload_form", None) or UploadForm(),
        "upload_limit": upload_limit_label(),
        "accepted_formats": ACCEPTED,
    }
    base.update(context)
    if request.htmx and base["tab"] == "find":
        # htmx leaves error responses unswapped; the message is the content, so answer 200.
        return render(request, BROWSER, base)
    return render(request, "predictions/new.html", base, status=status)


def get_provider_label(name: str) -> str:
    return provider_label(name)


def render_catalog_error(request: AuthenticatedHttpRequest, exc: CatalogError, context: dict) -> HttpResponse:
    log.warning("Catalog error: %s (%s)", exc, exc.detail)
    if isinstance(exc, NoPreview):
        status = 422  # the track, not the service, is the problem
    else:
        status = 404 if isinstance(exc, NotFound) else 429 if isinstance(exc, RateLimited) else 503
    return render_new_page(request, {**context, "error": str(exc)}, status=status)


@require_GET
@throttle("catalog", when=lambda request: "q" in request.GET)  # searches, not the bare page
def new(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.GET.get("tab") == "upload":
        return render_new_page(request, {"tab": "upload"})
    if "q" not in request.GET:
        return render_new_page(request, {})
    form = SearchForm(request.GET)
    if not form.is_valid():
        return render_new_page(request, {"search_form": form})
    query = form.cleaned_data["q"]
    name = form.cleaned_data["provider"] or default_provider_name()
    context = {"search_form": form, "provider": name, "query": query}
    try:
        page = catalog_services.catalog_search(provider=name, query=query, offset=_offset(request))
    except CatalogError as exc:
        return render_catalog_error(request, exc, context)
    pager = urlencode({"q": query, "provider": name})
    return render_new_page(request, {**context, "view": "search", "page": page, "pager_query": pager})


@require_GET
@throttle("catalog")
def artist(request: AuthenticatedHttpRequest, provider: str, artist_id: str) -> HttpResponse:
    context: dict = {"provider": provider, "query": request.GET.get("q", "")}
    try:
        catalog = get_provider(provider)
        page = catalog.artist_albums(artist_id, offset=_offset(request))
        found = catalog.get_artist(artist_id)
    except CatalogError as exc:
        return render_catalog_error(request, exc, context)
    pager = urlencode({"q": context["query"]})
    return render_new_page(
        request, {**context, "view": "albums", "artist": found, "page": page, "pager_query": pager}
    )


@require_GET
@throttle("catalog")
def album(request: AuthenticatedHttpRequest, provider: str, album_id: str) -> HttpResponse:
    context: dict = {"provider": provider, "query": request.GET.get("q", "")}
    try:
        catalog = get_provider(provider)
        found = catalog.get_album(album_id)
        page = catalog.album_tracks(album_id, offset=_offset(request))
    except CatalogError as exc:
        return render_catalog_error(request, exc, context)
    artist_id = request.GET.get("artist", "")
    artist_id = artist_id if ARTIST_ID.fullmatch(artist_id) else ""  # only ever echoed into a link
    pager = urlencode({"artist": artist_id, "q": context["query"]})
    context |= {"view": "tracks", "album": found, "page": page, "artist_id": artist_id, "pager_query": pager}
    return render_new_page(request, context)


@require_GET
@throttle("catalog")
def preview(request: HttpRequest, provider: str, track_id: str) -> HttpResponse:
    """Redirect the player to a freshly resolved preview (the links expire, so none is cached)."""
    try:
        get_provider(provider)  # unknown or unconfigured provider: NotFound
        url = resolve_preview_url(provider=provider, track_id=track_id)
    except CatalogError as exc:
        status = 429 if isinstance(exc, RateLimited) else 404
        return HttpResponse(str(exc), status=status, content_type="text/plain; charset=utf-8")
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@throttle("predictions")  # the same allowance as the API's
def create_from_pick(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A track chosen on the New prediction page (whose errors re-render that page)."""
    form = PickForm(request.POST)
    if not form.is_valid():
        return render_new_page(request, {"error": "Choose a track from the list."}, status=400)
    try:
        prediction = services.prediction_create_from_track(user=request.user, **form.cleaned_data)
    except CatalogError as exc:
        return render_catalog_error(request, exc, {"provider": form.cleaned_data["provider"]})
    return redirect(reverse("predictions:detail", args=[prediction.pk]))


@require_POST
@throttle("predictions")  # the same allowance as the API's
def create_from_upload(request: AuthenticatedHttpRequest) -> HttpResponse:
    # Refuse an oversized body before Django reads it into a temporary file.
    if too_large := upload_declared_too_large(request.META.get("CONTENT_LENGTH", "")):
        form = UploadForm.refused(too_large)
        return render_new_page(request, {"tab": "upload", "upload_form": form}, status=413)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render_new_page(request, {"tab": "upload", "upload_form": form}, status=400)
    try:
        prediction = services.prediction_create_from_upload(
            user=request.user, upload=form.cleaned_data["file"]
        )
    except StorageRefused:
        form = UploadForm.refused(STORAGE_UNAVAILABLE)
        response = render_new_page(request, {"tab": "upload", "upload_form": form}, status=503)
        response["Retry-After"] = str(STORAGE_RETRY_AFTER)
        return response
    return redirect(reverse("predictions:detail", args=[prediction.pk]))
