"""One error shape for every API error:

    {"error": {"code": "invalid", "message": "A sentence to act on.", "field_errors": {"file": ["..."]}}}

`field_errors` is null unless the request had invalid fields; nested fields are named with dots.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from catalog import errors as catalog_errors

FieldErrors = dict[str, list[str]]

# Catalog failures, as (HTTP status, code); the message is the error's own sentence.
_CATALOG_STATUS: list[tuple[type[catalog_errors.CatalogError], int, str]] = [
    (catalog_errors.NotFound, status.HTTP_404_NOT_FOUND, "not_found"),
    (catalog_errors.RateLimited, status.HTTP_429_TOO_MANY_REQUESTS, "provider_rate_limited"),
    (catalog_errors.BadCredentials, status.HTTP_503_SERVICE_UNAVAILABLE, "provider_credentials"),
    (catalog_errors.ProviderUnavailable, status.HTTP_503_SERVICE_UNAVAILABLE, "provider_unavailable"),
    (catalog_errors.NoPreview, status.HTTP_422_UNPROCESSABLE_ENTITY, "no_preview"),
    (catalog_errors.DownloadRefused, status.HTTP_422_UNPROCESSABLE_ENTITY, "preview_refused"),
]
CATALOG_RETRY_AFTER_DEFAULT = 60


class ApiError(exceptions.APIException):
    """An error a view answers on purpose, with its own status and code."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status_code


class Refused(exceptions.Throttled):
    """429 with Retry-After and the site's own sentence (why: a rate, a quota)."""

    def __init__(self, *, wait: int, message: str) -> None:
        super().__init__(wait=wait)
        self.message = message


def error_body(code: str, message: str, field_errors: FieldErrors | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field_errors": field_errors or None}}


def flatten_field_errors(detail: Any, prefix: str = "") -> FieldErrors:
    """DRF's nested error detail as {"field" or "parent.child": [messages]}."""
    if isinstance(detail, dict):
        flat: FieldErrors = {}
        for key, value in detail.items():
            flat.update(flatten_field_errors(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        flat = {}
        for index, item in enumerate(detail):
            flat.update(flatten_field_errors(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    messages = [str(item) for item in detail] if isinstance(detail, list) else [str(detail)]
    return {prefix or "non_field_errors": messages}


def _validation_message(field_errors: FieldErrors) -> str:
    general = field_errors.get("non_field_errors")
    if general:
        return general[0]
    field, messages = next(iter(field_errors.items()))
    more = len(field_errors) - 1
    suffix = f" ({more} more field{'s' if more > 1 else ''} invalid)" if more else ""
    return f"{field}: {messages[0]}{suffix}"


def _catalog_response(exc: catalog_errors.CatalogError) -> Response:
    http_status: int = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "provider_error"
    for cls, mapped_status, mapped_code in _CATALOG_STATUS:
        if isinstance(exc, cls):
            http_status, code = mapped_status, mapped_code
            break
    response = Response(error_body(code, str(exc)), status=http_status)
    if isinstance(exc, catalog_errors.RateLimited):
        response["Retry-After"] = str(exc.retry_after or CATALOG_RETRY_AFTER_DEFAULT)
    return response


def _code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def _message(exc: exceptions.APIException) -> str:
    if isinstance(exc, Refused):
        return exc.message
    if isinstance(exc, exceptions.Throttled):
        wait = f" in {exc.wait:.0f} s" if exc.wait is not None else " later"  # type: ignore[attr-defined]  # set in __init__; not in the stubs
        return f"Too many requests of this kind. Try again{wait}."
    if isinstance(exc, exceptions.NotFound) and str(exc.detail) == str(exc.default_detail):
        return "Not found. It may have been deleted, or it belongs to another account."
    return str(exc.detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """REST_FRAMEWORK's EXCEPTION_HANDLER: DRF's handling (status, Retry-After...), our body."""
    if isinstance(exc, catalog_errors.CatalogError):
        return _catalog_response(exc)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django's 500 handling (and logging) takes over
    if isinstance(exc, exceptions.ValidationError):
        field_errors = flatten_field_errors(exc.detail)
        response.data = error_body("invalid", _validation_message(field_errors), field_errors)
    elif isinstance(exc, exceptions.APIException):
        response.data = error_body(_code(exc), _message(exc))
    return response
