"""The demo's own page: its mailbox (only with DEMO_MODE on; a 404 everywhere else)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .mail import mailbox_list


@login_not_required  # a password reset is asked for signed out
@never_cache
@require_GET
def mailbox(request: HttpRequest) -> HttpResponse:
    if not settings.DEMO_MODE:
        raise Http404
    return render(request, "demo/mailbox.html", {"emails": mailbox_list()})
