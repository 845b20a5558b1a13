"""The request type of a signed-in page, for annotations.

LoginRequiredMiddleware turns anonymous visitors away from every view not marked
`login_not_required`, and django-htmx's middleware sets `htmx` on every request; HttpRequest's own
type knows neither, so those views annotate their request with this.
"""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from .models import User


class AuthenticatedHttpRequest(HttpRequest):
    user: User
    htmx: HtmxDetails
