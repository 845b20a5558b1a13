from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache

from accounts.http import AuthenticatedHttpRequest
from api.exceptions import error_body
from predictions.models import Prediction

from .health import health_report_cached


@login_not_required
def landing(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    return render(request, "landing.html")


def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    recent = Prediction.objects.filter(owner=request.user)[:5]
    return render(request, "home.html", {"recent": recent})


@login_not_required
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Public: a liveness answer that touches nothing (the process answers, so it is alive).
    Staff, or a monitor with HEALTHZ_TOKEN, get the database, broker and worker report, which
    names hosts and workers, from a cache a few seconds old."""
    if not _may_see_health_details(request):
        return JsonResponse({"status": "ok"})
    ok, report = health_report_cached()
    return JsonResponse(
        {"status": "ok" if ok else "unavailable", "checks": report}, status=200 if ok else 503
    )


def _may_see_health_details(request: HttpRequest) -> bool:
    if request.user.is_staff:
        return True
    token = settings.HEALTHZ_TOKEN
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(token) and secrets.compare_digest(offered.encode(), token.encode())


BAD_REQUEST_MESSAGE = (
    "Seven/Four could not read what your browser sent. If you were uploading a file, give it a "
    "short plain name (such as song.mp3) and try again."
)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The 400 page (handler400): a request Django refused to parse, such as an upload whose file
    name is `..` or too long for a multipart header. The API answers in its own error shape."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("bad_request", BAD_REQUEST_MESSAGE), status=400)
    html = render_to_string("errors/400.html", {"message": BAD_REQUEST_MESSAGE}, request=request)
    return HttpResponse(html, status=400)
