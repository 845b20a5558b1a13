"""The sample library's pages (issue 25): a song's, and a pack's. GET only: the filters are the
URL, so a view can be shared and bookmarked; without JavaScript the form reloads the page, with
htmx it swaps the results in place and pushes the URL. Other users' songs and packs answer 404."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render

from accounts.http import AuthenticatedHttpRequest
from predictions.models import Prediction
from predictions.selectors import prediction_get_for_user

from . import freesound_index, library, library_facets, library_rows, selectors
from .forms import LibraryForm
from .models import Pack


def song_library(request: AuthenticatedHttpRequest, prediction_pk: int) -> HttpResponse:
    song = prediction_get_for_user(user=request.user, pk=prediction_pk, status=Prediction.Status.DONE)
    return _library(request, song=song, pack=None)


def pack_library(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    pack = selectors.pack_get_for_user(user=request.user, pk=pk)
    picked = selectors.song_for_user(user=request.user, pk=request.GET.get("song", ""))
    return _library(request, song=picked or library_rows.pack_song(pack=pack), pack=pack)


def _library(
    request: AuthenticatedHttpRequest, *, song: Prediction | None, pack: Pack | None
) -> HttpResponse:
    allowed = library.allowed_licences(allow_noncommercial=selectors.allows_noncommercial(user=request.user))
    form = LibraryForm(request.GET, allowed_licences=allowed)
    query = form.library_query()
    reference = library.reference_for(song)
    sounds = library.sound_filter(query=query, reference=reference, allowed=allowed)
    facets = library_facets.cached_facet_counts(sounds, selected=query.tags)
    page_number = _page_number(request)
    top_up = None
    if library.needs_top_up(total=facets.total, page=page_number):
        top_up = freesound_index.library_top_up(query=query, reference=reference, licences=allowed)
        if top_up.stored:
            facets = library_facets.cached_facet_counts(sounds, selected=query.tags)
    ordered = library.ranked(sounds, sort=query.sort, reference=reference, total=facets.total)
    page = library.paginate(ordered, number=page_number, total=facets.total)
    in_pack = set(pack.items.values_list("sound_id", flat=True)) if pack else set()
    context: dict[str, Any] = {
        "song": song,
        "pack": pack,
        "form": form,
        "q": query,
        "facets": facets,
        "page": page,
        "rows": library_rows.sound_rows(page.object_list, song=song, in_pack=in_pack),
        "top_up": top_up,
        "query": _query_string(request, drop=("page",)),
        "fits_url": _query_string(request, drop=("page", "fits"), add={"fits": "1"}),
        "here": request.get_full_path(),
        "action": request.path,
        "allowed_licences": allowed,
        "pack_names": selectors.pack_names_for_user(user=request.user),
        "song_choices": selectors.conform_song_choices(user=request.user) if pack else [],
        "sorts_need_song": song is None,
    }
    return render(request, "samples/library.html", context)


def _page_number(request: AuthenticatedHttpRequest) -> int:
    value = request.GET.get("page", "1")
    return int(value) if value.isdigit() and 0 < int(value) < 100_000 else 1


def _query_string(
    request: AuthenticatedHttpRequest, *, drop: tuple[str, ...], add: dict[str, str] | None = None
) -> str:
    params = request.GET.copy()
    for name in drop:
        params.pop(name, None)
    for name, value in (add or {}).items():
        params[name] = value
    return params.urlencode()
