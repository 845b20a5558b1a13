"""The ReDoc page's script, served without its one request to another site.

ReDoc's sidebar footer ("API docs by Redocly") shows Redocly's logo from cdn.redoc.ly, and ReDoc
has no option to leave it out. The page's own policy blocked the image, but the browser still
tried to fetch it. This serves drf-spectacular-sidecar's bundle with that address replaced by
`data:,`, which is not an image: the logo's own error handler then hides it, and nothing leaves
the site.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.contrib.auth.decorators import login_not_required
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from drf_spectacular.views import SpectacularRedocView

BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
REDOCLY_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


@cache
def redoc_bundle_bytes() -> bytes:
    found = finders.find(BUNDLE)
    if not isinstance(found, str):
        raise FileNotFoundError(BUNDLE)
    return Path(found).read_bytes().replace(REDOCLY_LOGO, b"data:,")


@login_not_required  # the docs are public, like the schema they show
@require_GET
@cache_control(public=True, max_age=24 * 60 * 60)
def redoc_bundle(request: HttpRequest) -> HttpResponse:
    return HttpResponse(redoc_bundle_bytes(), content_type="text/javascript; charset=utf-8")


class RedocView(SpectacularRedocView):
    """drf-spectacular's ReDoc page, with the bundle above instead of the sidecar's own."""

    @staticmethod
    def _redoc_standalone() -> str:
        return reverse("api:redoc-bundle")
