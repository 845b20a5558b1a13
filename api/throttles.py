"""Per-user rates for the expensive calls: creating predictions (a model run each), catalog
lookups (they spend the site's shared provider budget) and corrections (each restarts the samples
stage, which may spend the site's Freesound budget). The counting is accounts.ratelimit's, the
same windows the web pages spend, so a pick on the page and a POST here share one allowance.
Rates: settings.RATE_LIMITS."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from accounts.ratelimit import throttle_take


class _ScopedThrottle(BaseThrottle):
    scope = ""

    def __init__(self) -> None:
        self._wait = 0

    def allow_request(self, request: Request, view: APIView) -> bool:
        usage = throttle_take(self.scope, request)
        self._wait = usage.retry_after
        return usage.allowed

    def wait(self) -> float | None:
        return self._wait or None


class PredictionCreateThrottle(_ScopedThrottle):
    scope = "predictions"


class CatalogThrottle(_ScopedThrottle):
    scope = "catalog"


class CorrectionThrottle(_ScopedThrottle):
    scope = "corrections"
