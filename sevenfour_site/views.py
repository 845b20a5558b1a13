from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from accounts.http import AuthenticatedHttpRequest
from predictions.models import Prediction

from .health import health_report


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
    ok, report = health_report()
    return JsonResponse(
        {"status": "ok" if ok else "unavailable", "checks": report}, status=200 if ok else 503
    )
