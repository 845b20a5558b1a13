from __future__ import annotations

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        # drf-spectacular finds extensions by import: this teaches it our token authentication.
        from . import schema  # noqa: F401
