"""Playing and downloading samples in the song's tempo and key: the render's state for the page's
player (JSON), the rendered WAV, and downloads named for a DAW. Other users' predictions answer 404."""

from __future__ import annotations

import re

from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.http import AuthenticatedHttpRequest
from accounts.ratelimit import refuse_with
from predictions.models import Prediction
from predictions.selectors import prediction_get_for_user
from worker.music.conform import ConformPlan

from ..downloads import PreviewError, PreviewMissing, preview_fetch
from ..models import ConformedRender, Sound
from ..quota import Refusal, request_refusal
from . import conforming
from .rendering import wav_repeated


def conform_state(
    *, prediction: Prediction, sound: Sound, plan: ConformPlan, row: ConformedRender | None
) -> dict[str, object]:
    state = conforming.render_state(row)
    refusal = conforming.render_refusal(sound=sound, plan=plan)
    if refusal and state["status"] != ConformedRender.Status.DONE:
        state.update(status="refused", refused=refusal)
    if row is not None and row.status == ConformedRender.Status.DONE:
        state["url"] = reverse("samples:render_audio", args=[row.pk])
    state.setdefault("loop_beats", plan.beats)
    state.update(
        description=plan.describe(),
        target_bpm=plan.target_bpm,
        download_url=reverse("samples:conformed_download", args=[prediction.pk, sound.pk]),
        filename=conforming.conformed_filename(sound, plan),
        disabled=conforming.conforming_disabled_reason(),
    )
    return state


def _ask(
    request: AuthenticatedHttpRequest, *, sound: Sound, plan: ConformPlan, row: ConformedRender | None
) -> Refusal | None:
    """Ask for the render (`row`, the one found, when there is one), unless the plan is past the
    limits (the state says why) or the request is refused: a render that is not cached counts
    against the user's throttle and quota."""
    if conforming.render_refusal(sound=sound, plan=plan):
        return None
    if conforming.render_needs_work(row) and (refusal := request_refusal(request, scope="renders")):
        return refusal
    conforming.render_request(sound=sound, plan=plan, user=request.user)
    return None


@require_http_methods(["GET", "POST"])
def conform(request: AuthenticatedHttpRequest, prediction_pk: int, sound_pk: int) -> JsonResponse:
    """GET: where the render for this song stands. POST: ask for it (the cached one when it exists);
    429 with the reason and Retry-After when the user asked for too many."""
    prediction = prediction_get_for_user(user=request.user, pk=prediction_pk, status=Prediction.Status.DONE)
    sound = get_object_or_404(Sound, pk=sound_pk, removed=False)
    plan = conforming.plan_for(sound=sound, grid=conforming.song_grid(prediction))
    disabled = conforming.conforming_disabled_reason()
    row = conforming.render_find(sound=sound, plan=plan, user=request.user)
    if request.method == "POST" and not disabled:
        if refusal := _ask(request, sound=sound, plan=plan, row=row):
            response = JsonResponse({"status": "refused", "refused": refusal.message}, status=429)
            response["Retry-After"] = str(refusal.retry_after)
            return response
        row = conforming.render_find(sound=sound, plan=plan, user=request.user)  # as asked for now
    return JsonResponse(conform_state(prediction=prediction, sound=sound, plan=plan, row=row))


@require_http_methods(["GET", "POST"])
def conformed_download(
    request: AuthenticatedHttpRequest, prediction_pk: int, sound_pk: int
) -> HttpResponseBase:
    """The sample conformed to the song as a WAV download. GET never queues work: it sends the WAV
    when it is rendered, else a page that says where the render stands, with a button that POSTs
    here to ask for it, and reloads itself with ?waiting=1 while it is on its way (it works without
    JavaScript). Once the file is there, that reload gets a "ready" page which starts the download:
    a reload answered with the file itself saved it but left the browser on the wait page. A loop
    lasts a whole number of the song's bars when the bar is known (conforming.bar_fill), so dropped
    at bar 1 of a DAW and looped it starts on a "1" every time round.
    POST asks for the render (the cached one when it exists) and redirects back to the GET."""
    prediction = prediction_get_for_user(user=request.user, pk=prediction_pk, status=Prediction.Status.DONE)
    sound = get_object_or_404(Sound, pk=sound_pk, removed=False)
    grid = conforming.song_grid(prediction)
    plan = conforming.plan_for(sound=sound, grid=grid)
    disabled = conforming.conforming_disabled_reason()
    row = None if disabled else conforming.render_find(sound=sound, plan=plan, user=request.user)
    if request.method == "POST" and not disabled:
        if refusal := _ask(request, sound=sound, plan=plan, row=row):
            return refuse_with(request, message=refusal.message, retry_after=refusal.retry_after)
        return redirect(request.path)
    done = row if row is not None and row.status == ConformedRender.Status.DONE and row.file else None
    fill = conforming.bar_fill(plan=plan, grid=grid, loop_s=row.duration_s if row is not None else None)
    if done is not None and "waiting" not in request.GET:
        conforming.render_touch(done)
        return _wav_download(done, fill=fill, filename=conforming.conformed_filename(sound, plan))
    context: dict[str, object] = {"prediction": prediction, "sound": sound, "row": row, "plan": plan}
    context |= {
        "bar_words": fill.words,
        "disabled": disabled,
        "ready": done is not None,
        "filename": conforming.conformed_filename(sound, plan),
        "refused": conforming.render_refusal(sound=sound, plan=plan),
    }
    status = 503 if disabled else 200 if done is not None else 202
    return render(request, "samples/conformed_wait.html", context, status=status)


def _wav_download(row: ConformedRender, *, fill: conforming.BarFill, filename: str) -> HttpResponseBase:
    """The render as an attachment: the stored file itself, or, to last whole bars of the song
    (conforming.bar_fill), the loop played that many times end to end."""
    body = wav_repeated(row.file.open("rb"), fill.repeats)
    return FileResponse(body, as_attachment=True, filename=filename, content_type="audio/wav")


# ASCII digits only, and few enough for int(): a Range of 5,000 digits (over Python's int limit) or
# of Unicode digits was a 500 (issue 28.6); such a header is ignored and the whole file sent.
_RANGE = re.compile(r"bytes=([0-9]{0,18})-([0-9]{0,18})")


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The first range of a Range header as (start, end) inclusive, or None to send the whole file."""
    match = _RANGE.fullmatch(header.strip())
    if not match or size == 0 or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    else:  # "bytes=-500": the last 500 bytes
        start, end = max(size - int(last), 0), size - 1
    return (start, end) if start <= end else None


@require_GET
def render_audio(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A finished render for the player (renders are of public Freesound sounds, so any signed-in
    user may play one). Byte ranges are honoured: the player seeks to stay on the song's beats,
    and a browser cannot seek in a file served without them."""
    row = get_object_or_404(ConformedRender, pk=pk, status=ConformedRender.Status.DONE)
    conforming.render_touch(row)
    size = row.file.size
    wanted = byte_range(request.headers.get("Range", ""), size)
    if wanted is None:
        response: HttpResponseBase = FileResponse(row.file.open("rb"), content_type="audio/wav")
    else:
        start, end = wanted
        with row.file.open("rb") as handle:
            handle.seek(start)
            response = HttpResponse(handle.read(end - start + 1), status=206, content_type="audio/wav")
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=86400"
    return response


@require_GET
def original_download(request: HttpRequest, sound_pk: int) -> HttpResponse:
    """Freesound's HQ preview, fetched through the guarded downloader and named for a DAW, so the
    browser saves it (a cross-site link would only play it) and a card can be dragged out."""
    sound = get_object_or_404(Sound, pk=sound_pk, removed=False)
    try:
        data = preview_fetch(url=sound.preview_url)
    except PreviewMissing:
        return HttpResponse("Freesound no longer has this sound.", status=404, content_type="text/plain")
    except PreviewError:
        return HttpResponse(
            "Freesound's preview could not be downloaded; try again in a minute.",
            status=502,
            content_type="text/plain",
        )
    response = HttpResponse(data, content_type="audio/mpeg")
    response["Content-Disposition"] = f'attachment; filename="{conforming.original_filename(sound)}"'
    return response
