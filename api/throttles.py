"""Per-user rates for the expensive calls: creating predictions (a model run each) and catalog
lookups (they spend the site's shared provider budget). Rates: REST_FRAMEWORK DEFAULT_THROTTLE_RATES."""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle


class _SettingsRateThrottle(UserRateThrottle):
    def get_rate(self) -> str | None:
        # DRF copies the rates into the class at import time; reading them per request lets the
        # settings (and tests overriding them) change the rate.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class PredictionCreateThrottle(_SettingsRateThrottle):
    scope = "predictions"


class CatalogThrottle(_SettingsRateThrottle):
    scope = "catalog"
