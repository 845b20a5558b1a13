"""Pages for packs, "save to pack", "More like these" and pack downloads. Login is required
site-wide (LoginRequiredMiddleware); other users' packs and predictions answer 404."""

from __future__ import annotations

import re
import tempfile
import time

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedHttpRequest
from accounts.ratelimit import refuse_with
from predictions.models import Prediction
from predictions.selectors import prediction_get_for_user

from . import exports, freesound, freesound_index, library_rows, packs, selectors, services
from .conform.conforming import conforming_disabled_reason
from .downloads import PreviewError
from .forms import PackForm, PreferenceForm, SaveToPackForm
from .licences import Licence
from .models import Pack, PackExport, Sound
from .quota import quota_charge, request_refusal
from .zips import pack_zip_filename

PACKS_PER_PAGE = 12


def _next_url(request: HttpRequest, default: str) -> str:
    """A path on this site to go back to. Only absolute paths: redirect() would take a bare word
    such as "0" for a view name and fail with a 500."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# --- Packs ------------------------------------------------------------------------------------------


def pack_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    own_packs = selectors.pack_list_for_user(user=request.user)
    page = Paginator(own_packs, PACKS_PER_PAGE).get_page(request.GET.get("page"))
    songs = selectors.pack_songs(packs=list(page.object_list))
    for pack in page.object_list:
        pack.songs = songs.get(pack.pk, [])
    return render(request, "samples/pack_list.html", {"page": page, "form": PackForm()})


def pack_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = PackForm(request.POST or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            pack = packs.pack_create(owner=request.user, **form.cleaned_data)
        except packs.PackNameTaken as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, f"Pack “{pack.name}” created.")
            return redirect(pack)
    return render(request, "samples/pack_form.html", {"form": form})


def pack_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    pack = selectors.pack_get_for_user(user=request.user, pk=pk)
    # Rows play with the song each sound was saved from, or with the one the user picked.
    picked = selectors.song_for_user(user=request.user, pk=request.GET.get("song", ""))
    context = {
        "pack": pack,
        "sounds": selectors.sound_list_for_pack(pack=pack),
        "rows": library_rows.pack_rows(pack=pack, song=picked),
        "picked_song": picked,
        "here": request.get_full_path(),
        "songless": pack.items.filter(song__isnull=True).count(),
        "suggestions": selectors.sound_suggestions_for_pack(pack=pack),
        "stream_max": settings.PACK_ZIP_STREAM_MAX_ITEMS,
        "export": pack.exports.filter(signature=exports.pack_signature(pack)).first(),
    }
    return render(request, "samples/pack_detail.html", context)


def pack_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    pack = selectors.pack_get_for_user(user=request.user, pk=pk)
    form = PackForm(request.POST or None, instance=pack, owner=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            packs.pack_update(pack=pack, **form.cleaned_data)
        except packs.PackNameTaken as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, "Pack saved.")
            return redirect(pack)
    return render(request, "samples/pack_form.html", {"form": form, "pack": pack})


def pack_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    pack = selectors.pack_get_for_user(user=request.user, pk=pk)
    if request.method == "POST":
        packs.pack_delete(pack=pack)
        messages.success(request, f"Pack “{pack.name}” deleted.")
        return redirect("samples:pack_list")
    return render(request, "samples/pack_confirm_delete.html", {"pack": pack})


@require_POST
def pack_item_add(request: AuthenticatedHttpRequest, pk: int, sound_pk: int) -> HttpResponse:
    pack = selectors.pack_get_for_user(user=request.user, pk=pk)
    song = selectors.song_for_user(user=request.user, pk=request.POST.get("song", ""))
    try:
        packs.pack_add_sound(pack=pack, sound=get_object_or_404(Sound, pk=sound_pk), song=song)
    except packs.PackFull as exc:
        messages.error(request, str(exc))
    return redirect(pack)


@require_POST
def pack_item_remove(request: AuthenticatedHttpRequest, pk: int, sound_pk: int) -> HttpResponse:
    pack = selectors.pack_get_for_user(user=request.user, pk=pk)
    packs.pack_remove_sound(pack=pack, sound=get_object_or_404(Sound, pk=sound_pk))
    if request.htmx:
        # The row disappears (empty answer) and the sound count in the header is swapped out of band.
        count = pack.items.count()
        return render(request, "samples/includes/pack_count.html", {"count": count, "oob": True})
    messages.success(request, "Removed from the pack.")
    return redirect(pack)


# --- Save to pack (from the result page) -------------------------------------------------------------


@require_POST
def sound_save(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = SaveToPackForm(request.POST)
    sound = get_object_or_404(Sound, pk=form.cleaned_data["sound"]) if form.is_valid() else None
    saved_to, error = None, ""
    if sound is not None:
        pack = packs.pack_get_or_create_by_name(owner=request.user, name=form.cleaned_data["pack_name"])
        song = selectors.song_for_user(user=request.user, pk=form.cleaned_data["song"])
        try:
            packs.pack_add_sound(pack=pack, sound=sound, song=song)
            saved_to = pack
        except packs.PackFull as exc:
            error = str(exc)
    if request.htmx:
        context = {
            "sound": sound or Sound(pk=_posted_id(request, "sound")),
            "song_id": _posted_id(request, "song") or "",
            "saved_to": saved_to,
            "error": error or _form_error(form),
            "pack_names": selectors.pack_names_for_user(user=request.user),
            "next": _next_url(request, ""),
            "oob": True,
        }
        return render(request, "samples/includes/save_form.html", context)
    if saved_to is not None:
        messages.success(request, f"Saved to “{saved_to.name}”.")
    else:
        messages.error(request, error or _form_error(form))
    return redirect(_next_url(request, reverse("samples:pack_list")))


def _posted_id(request: HttpRequest, name: str) -> int:
    """The id posted as `name` (the sound, the song), to redraw the form; 0 when it is not a number."""
    value = request.POST.get(name, "")
    return int(value) if re.fullmatch(r"[0-9]{1,18}", value) else 0


def _form_error(form: SaveToPackForm) -> str:
    errors = [e for field_errors in form.errors.values() for e in field_errors]
    return str(errors[0]) if errors else ""


# --- Recommendations -----------------------------------------------------------------------------------


@require_POST
def recommendations_more(request: AuthenticatedHttpRequest, prediction_pk: int) -> HttpResponse:
    prediction = prediction_get_for_user(user=request.user, pk=prediction_pk, status=Prediction.Status.DONE)
    # The user is waiting: a slow Freesound ends in "try again in a few minutes", not a hung page.
    with freesound.time_limit(settings.FREESOUND_WEB_TIME_LIMIT):
        created = services.recommendations_create_for_prediction(prediction=prediction)
    if request.htmx:
        context = {
            **selectors.recommendations_panel(prediction=prediction, user=request.user),
            "new_count": len(created),
        }
        return render(request, "samples/includes/recommendations_panel.html", context)
    if not created and (message := selectors.samples_message_for(prediction=prediction)):
        messages.warning(request, message)
    return redirect(f"{prediction.get_absolute_url()}#samples")


def sound_similar(request: AuthenticatedHttpRequest, sound_pk: int) -> HttpResponse:
    """ "More like this sample": the sound's nearest neighbours by how they sound."""
    sound = get_object_or_404(Sound, pk=sound_pk, removed=False)
    licences = Licence.default_codes()  # CC0 and CC BY
    if selectors.allows_noncommercial(user=request.user):
        licences.append(Licence.BY_NC.value)
    with freesound.time_limit(settings.FREESOUND_WEB_TIME_LIMIT):
        similar = freesound_index.sound_similar(sound=sound, licences=licences)
    song = selectors.song_for_user(user=request.user, pk=request.GET.get("song", ""))
    context = {
        "sound": sound,
        "song_id": song.pk if song is not None else "",
        "similar": similar.sounds,
        "message": similar.message,
        "pack_names": selectors.pack_names_for_user(user=request.user),
        "next": _next_url(request, ""),
    }
    return render(request, "samples/sound_similar.html", context)


def prediction_samples(request: AuthenticatedHttpRequest, prediction_pk: int) -> HttpResponse:
    """The samples panel alone: polled by htmx while "Finding samples…" shows."""
    prediction = prediction_get_for_user(user=request.user, pk=prediction_pk, status=Prediction.Status.DONE)
    context = selectors.recommendations_panel(prediction=prediction, user=request.user)
    return render(request, "samples/includes/recommendations_panel.html", context)


@require_POST
def preference_update(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = PreferenceForm(request.POST)
    if form.is_valid():
        services.preference_set(user=request.user, **form.cleaned_data)
        if form.cleaned_data["allow_noncommercial"]:
            messages.info(
                request, "Non-commercial (CC BY-NC) sounds will be included from the next batch on."
            )
    return redirect(_next_url(request, reverse("samples:pack_list")))


# --- Downloads ------------------------------------------------------------------------------------------


@require_POST
def pack_download(request: AuthenticatedHttpRequest, pk: int) -> HttpResponseBase:
    """Small packs are zipped right here; larger ones by a worker, with a progress page."""
    pack = selectors.pack_get_for_user(user=request.user, pk=pk)
    count = pack.items.count()
    if count == 0:
        messages.error(request, "The pack is empty: save some sounds to it first.")
        return redirect(pack)
    if refusal := request_refusal(request, scope="exports"):
        return refuse_with(request, message=refusal.message, retry_after=refusal.retry_after)
    contents, song = _zip_choice(request)
    if contents != PackExport.Contents.ORIGINALS:
        if disabled := conforming_disabled_reason():
            messages.error(request, disabled)
            return redirect(pack)
        # Renders take seconds each: a worker builds the ZIP while the page shows its progress.
        export = exports.pack_export_request(pack=pack, contents=contents, song=song)
        return redirect("samples:export_detail", pk=export.pk)
    if count <= settings.PACK_ZIP_STREAM_MAX_ITEMS:
        return _zip_response(request, pack)
    export = exports.pack_export_request(pack=pack)
    return redirect("samples:export_detail", pk=export.pk)


def _zip_choice(request: AuthenticatedHttpRequest) -> tuple[str, Prediction | None]:
    """The ZIP options posted with the pack page's form: what it holds and, for conformed WAVs, the
    one song to conform all to (one of the user's), or None: each to the song it was saved from."""
    contents = request.POST.get("contents", "")
    if contents not in PackExport.Contents.values:
        return PackExport.Contents.ORIGINALS, None
    if contents == PackExport.Contents.ORIGINALS:
        return contents, None
    return contents, selectors.song_for_user(user=request.user, pk=request.POST.get("song", ""))


def _zip_response(request: HttpRequest, pack: Pack) -> HttpResponseBase:
    target = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it once sent)
    deadline = time.monotonic() + settings.PACK_ZIP_REQUEST_SECONDS
    try:
        exports.pack_zip_write(pack=pack, target=target, deadline=deadline)
        quota_charge(user_id=pack.owner_id, size=target.tell())
    except exports.ZipDeadline:
        # A slow CDN must not hold the web process until the server kills it: a worker carries on.
        target.close()
        export = exports.pack_export_request(pack=pack)
        messages.info(request, "Freesound is slow right now, so a worker is building your ZIP instead.")
        return redirect("samples:export_detail", pk=export.pk)
    except PreviewError:
        target.close()
        messages.error(request, "A preview could not be downloaded from Freesound; try again in a minute.")
        return redirect(pack)
    target.seek(0)
    return FileResponse(
        target, as_attachment=True, filename=pack_zip_filename(pack.name), content_type="application/zip"
    )


def export_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    export = selectors.export_get_for_user(user=request.user, pk=pk)
    template = "samples/includes/export_status.html" if request.htmx else "samples/export_detail.html"
    return render(request, template, {"export": export, "pack": export.pack})


def export_file(request: AuthenticatedHttpRequest, pk: int) -> FileResponse:
    export = selectors.export_get_for_user(user=request.user, pk=pk)
    if export.status != PackExport.Status.DONE or not export.file:
        raise Http404("This ZIP is not ready.")
    exports.export_touch(export)
    return FileResponse(
        export.file.open("rb"),
        as_attachment=True,
        filename=pack_zip_filename(export.pack.name),
        content_type="application/zip",
    )
