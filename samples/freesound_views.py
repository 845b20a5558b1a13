"""The user's Freesound account (connect through OAuth2, disconnect) and original files downloaded
with it. Login is required site-wide; the callback is refused unless its state is the one this
session was sent with (samples.freesound_oauth.state_take)."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedHttpRequest

from . import freesound_oauth
from .freesound import FreesoundError, Throttled
from .models import FreesoundAccount, Sound
from .originals import OriginalMissing, original_get
from .zips import daw_filename

log = logging.getLogger(__name__)


def freesound_account(request: AuthenticatedHttpRequest) -> HttpResponse:
    """What connecting adds, and the button to connect or disconnect."""
    context = {
        "enabled": freesound_oauth.oauth_enabled(),
        "account": FreesoundAccount.objects.filter(user=request.user).first(),
    }
    return render(request, "samples/freesound_account.html", context)


@require_POST
def freesound_connect(request: AuthenticatedHttpRequest) -> HttpResponse:
    """To Freesound's authorize page, with a state bound to this session (a POST: a link on
    another site cannot start it)."""
    if not freesound_oauth.oauth_enabled():
        raise Http404("Freesound accounts are not set up on this site.")
    return redirect(freesound_oauth.authorize_url(session=request.session))


@require_GET
def freesound_callback(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Where Freesound sends the user back: `code` and `state`, or `error` when they said no."""
    if not freesound_oauth.oauth_enabled():
        raise Http404("Freesound accounts are not set up on this site.")
    if not freesound_oauth.state_take(session=request.session, state=request.GET.get("state", "")):
        context = {"reason": "This answer from Freesound does not belong to this session."}
        return render(request, "samples/freesound_refused.html", context, status=400)
    if request.GET.get("error") or not request.GET.get("code"):
        messages.info(request, "Your Freesound account was not connected: Freesound was not authorized.")
        return redirect("samples:freesound_account")
    try:
        freesound_oauth.account_connect(user=request.user, code=request.GET["code"])
    except FreesoundError as exc:
        log.warning("Freesound connection of user %s failed: %s", request.user.pk, exc.detail)
        messages.error(request, f"Your Freesound account was not connected: {exc}")
        return redirect("samples:freesound_account")
    messages.success(
        request, "Your Freesound account is connected: downloads and ZIPs now use the original files."
    )
    return redirect("samples:freesound_account")


def freesound_disconnect(request: AuthenticatedHttpRequest) -> HttpResponse:
    """GET asks for confirmation; POST deletes the stored tokens."""
    account = FreesoundAccount.objects.filter(user=request.user).first()
    if account is None:
        raise Http404("No Freesound account is connected.")
    if request.method == "POST":
        freesound_oauth.account_disconnect(user=request.user)
        messages.success(request, "Your Freesound account was disconnected and its tokens deleted.")
        return redirect("samples:freesound_account")
    return render(request, "samples/freesound_confirm_disconnect.html", {"account": account})


@require_GET
def original_file(request: AuthenticatedHttpRequest, sound_pk: int) -> HttpResponseBase:
    """The sound's original upload, downloaded with the user's Freesound account (403 without
    one: the page says how to connect), named for a DAW."""
    sound = get_object_or_404(Sound, pk=sound_pk, removed=False)
    try:
        original = original_get(sound=sound, user=request.user)
    except freesound_oauth.NotConnected as exc:
        context = {"reason": str(exc), "sound": sound, "enabled": freesound_oauth.oauth_enabled()}
        return render(request, "samples/freesound_refused.html", context, status=403)
    except OriginalMissing as exc:
        return HttpResponse(str(exc), status=404, content_type="text/plain")
    except Throttled as exc:
        response = HttpResponse(
            "Freesound's download limit is reached for now; try again in a few minutes.",
            status=429,
            content_type="text/plain",
        )
        response["Retry-After"] = str(exc.retry_after)
        return response
    except FreesoundError as exc:
        log.warning("Original of sound %s failed: %s (%s)", sound.freesound_id, exc, exc.detail)
        return HttpResponse(str(exc), status=502, content_type="text/plain")
    name = daw_filename(name=sound.name, bpm=sound.bpm, key=sound.key, suffix=original.container)
    return FileResponse(original.file.open("rb"), as_attachment=True, filename=name)
