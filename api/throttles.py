"""Per-user rates for the expensive calls: creating predictions (a model run each) and catalog
lookups (they spend the site's shared provider budget). Rates: REST_FRAMEWORK DEFAULT_THROTTLE_RATES."""

from __future__ import annotations

from typing import cast

from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle


class _SettingsRateThrottle(UserRateThrottle):
    def get_rate(self) -> str | None:
        # DRF copies the rates into the class at import time; reading them per request lets the
        # settings (and tests overriding them) change the rate.
        # The stubs type the rates as numbers; DRF's rates are "N/period" strings.
        rates = cast("dict[str | None, str | None]", api_settings.DEFAULT_THROTTLE_RATES)
        return rates.get(self.scope)


class PredictionCreateThrottle(_SettingsRateThrottle):
    scope = "predictions"


class CatalogThrottle(_SettingsRateThrottle):
    scope = "catalog"
