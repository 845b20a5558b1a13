from __future__ import annotations

import re
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedHttpRequest
from accounts.ratelimit import throttle
from catalog.errors import CatalogError
from core.fragments import render_conditional

from . import corrections, services
from .forms import CorrectionForm
from .models import Prediction
from .presenters import prediction_status_dict, progress_context, rerun_offered
from .selectors import prediction_get_for_user, prediction_list_for_user
from .taxonomy import genre_choices, genre_name

# Genre slugs as the models write them; anything else (a NUL byte breaks PostgreSQL) is no filter.
GENRE_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


def history(request: AuthenticatedHttpRequest) -> HttpResponse:
    genre = request.GET.get("genre", "")
    genre = genre if GENRE_SLUG.fullmatch(genre) else ""
    search = " ".join(request.GET.get("q", "").split())[:100]
    predictions = prediction_list_for_user(user=request.user, genre=genre, search=search).only(
        *HISTORY_FIELDS
    )
    page = Paginator(predictions, 20).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in {"q": search, "genre": genre}.items() if v})
    return render(
        request,
        "predictions/history.html",
        {"page": page, "genre": genre, "search": search, "genres": genre_choices(), "query": query},
    )


# The pages show none of the backbone output (hundreds of numbers): not read, not decoded.
PAGE_DEFERRED = ("backbone_output",)


# What a history row shows: its JSON columns (scores, tags, beats) are neither read nor decoded.
HISTORY_FIELDS = ("pk", "owner", "title", "artist", "upload", "artwork_url", "status", "top_genre", "confidence",
                  "sounds_like", "created_at")  # fmt: skip


def detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    prediction = prediction_get_for_user(user=request.user, pk=pk, defer=PAGE_DEFERRED)
    # The panels of a finished song render themselves, cached (prediction_tags.analysis_panel).
    return render_conditional(request, "predictions/detail.html", progress_context(prediction))


@require_POST
@throttle("corrections")
def correct(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The user's tempo, key or genre (or back to the estimate): one button, no script needed."""
    prediction = prediction_get_for_user(user=request.user, pk=pk, status=Prediction.Status.DONE)
    form = CorrectionForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            changed = corrections.prediction_correct(prediction=prediction, **form.correction())
        except corrections.CorrectionError as exc:
            error = str(exc)
    else:
        error = form.first_error()
    if error:
        prediction.refresh_from_db()
        context = {**progress_context(prediction), "correction_error": error}
        return render(request, "predictions/detail.html", context, status=400)
    if changed:
        messages.success(request, _correction_message(prediction, changed))
    return redirect(f"{prediction.get_absolute_url()}#result")


def _correction_message(prediction: Prediction, changed: list[str]) -> str:
    said = {
        "tempo": f"tempo {prediction.song_tempo_bpm:g} BPM" if prediction.song_tempo_bpm else "",
        "key": f"key {prediction.song_key}" if prediction.song_key else "",
        "genre": "genre " + (genre_name(prediction.song_genre) if prediction.song_genre else "—"),
    }
    parts = [said[name] for name in changed if said[name]]
    return f"Now using {', '.join(parts) or 'the estimate'}; the samples are being found again to fit."


def status(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The progress fragment that htmx polls. Once the song is finished it answers with a small
    fragment that loads the result once (result_panel) in its place, so that a poll, however
    often a page sends it, never renders the whole result."""
    prediction = prediction_get_for_user(user=request.user, pk=pk, only=STATUS_FIELDS)
    if prediction.is_finished:
        return render(request, "predictions/includes/result_loader.html", {"prediction": prediction})
    return render(request, "predictions/includes/progress.html", progress_context(prediction))


# What the progress card and its queue note read.
STATUS_FIELDS = ("pk", "owner", "status", "stage", "error", "queued_at")


def result_panel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The result of a finished song (the progress card of one still running), as the page shows it."""
    prediction = prediction_get_for_user(user=request.user, pk=pk, defer=PAGE_DEFERRED)
    if not prediction.is_finished:
        return render(request, "predictions/includes/progress.html", progress_context(prediction))
    return render_conditional(request, "predictions/includes/result.html", {"prediction": prediction})


def status_json(request: AuthenticatedHttpRequest, pk: int) -> JsonResponse:
    return JsonResponse(prediction_status_dict(prediction_get_for_user(user=request.user, pk=pk)))


def audio(request: AuthenticatedHttpRequest, pk: int) -> HttpResponseBase:
    """The song for the player: an upload is streamed to its owner; a catalog preview is resolved
    now (preview links expire within minutes, so none is ever stored)."""
    # Staff may see any prediction's audio and spectrogram: the admin reviews them.
    prediction = prediction_get_for_user(user=request.user, pk=pk, staff_sees_all=True)
    if prediction.upload:
        return _upload_response(prediction)
    try:
        url = services.prediction_preview_url(prediction=prediction)
    except CatalogError as exc:
        return HttpResponse(str(exc), status=404, content_type="text/plain")
    return HttpResponseRedirect(url)


def _upload_response(prediction: Prediction) -> FileResponse:
    """The upload with the content type of the format sniffed from its bytes. Never one guessed
    from the name: an upload named evil.html must not be served as a page in the site's origin."""
    from worker.audio.sniff import CONTAINERS, sniff_file

    handle = prediction.upload.open("rb")
    container = CONTAINERS.get(sniff_file(handle) or "")
    content_type = container.mime_type if container else "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    # Belt and braces with the site-wide nosniff and CSP: even a browser that rendered it
    # would run nothing from it.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; media-src 'self'"
    return response


def spectrogram(request: AuthenticatedHttpRequest, pk: int) -> FileResponse:
    prediction = prediction_get_for_user(user=request.user, pk=pk, staff_sees_all=True)
    if not prediction.spectrogram:
        raise Http404("This prediction has no spectrogram.")
    return FileResponse(prediction.spectrogram.open("rb"), content_type="image/png")


def spectrogram_slot(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The fragment htmx polls while an I/O worker draws the picture: the figure once it exists."""
    # Polled every second: read only the columns the slot shows, not the scores and backbone output.
    prediction = prediction_get_for_user(user=request.user, pk=pk, only=SPECTROGRAM_SLOT_FIELDS)
    return render(request, "predictions/includes/spectrogram.html", {"prediction": prediction})


SPECTROGRAM_SLOT_FIELDS = ("pk", "spectrogram", "spectrogram_failed", "spectrogram_mel", "excerpt_s")


@require_POST
@throttle("predictions")  # the same allowance as the API's
def rerun(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    prediction = prediction_get_for_user(user=request.user, pk=pk)
    if not rerun_offered(prediction):
        # Same song, same model: another row in the history would only repeat this one.
        messages.info(
            request, "This result already comes from the current model; running it again would repeat it."
        )
        return redirect(prediction)
    new = services.prediction_rerun(prediction=prediction)
    messages.info(request, "Analysing the song again with the current model.")
    return redirect(new)


def delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    prediction = prediction_get_for_user(user=request.user, pk=pk)
    if request.method == "POST":
        title = prediction.display_title
        services.prediction_delete(prediction=prediction)
        messages.success(request, f"Deleted “{title}”.")
        return redirect("predictions:history")
    return render(request, "predictions/confirm_delete.html", {"prediction": prediction})
