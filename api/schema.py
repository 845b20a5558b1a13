"""OpenAPI pieces shared by the views: the token scheme, the error body and its responses."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A personal token from /accounts/tokens/, sent as `Token <secret>`.",
        }


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Stable, machine-readable, e.g. `invalid`, `not_found`, `throttled`."
    )
    message = serializers.CharField(help_text="A sentence for people, saying what to do.")
    field_errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        allow_null=True,
        help_text="Messages per invalid input field (nested fields joined with dots); null otherwise.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


_DESCRIPTIONS = {
    400: "Invalid input; `field_errors` names each invalid field.",
    401: "No credentials, or a token that is unknown or revoked.",
    403: "Authenticated by session without a valid CSRF token.",
    404: "No such object, or it belongs to another account.",
    409: "The request conflicts with the object's state.",
    413: "The upload is larger than the site's limit.",
    415: "Unsupported request body type.",
    422: "The song cannot be analysed from this source.",
    429: "Too many requests: wait the number of seconds in Retry-After.",
    503: "The music service is not answering or refused the site's credentials.",
}


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """Error responses for an operation; 401 and 403 apply to every one."""
    return {
        code: OpenApiResponse(ErrorSerializer, description=_DESCRIPTIONS[code])
        for code in sorted({401, 403, *statuses})
    }


RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[429],
    description="Seconds to wait before trying again.",
)


def location(*statuses: int) -> OpenApiParameter:
    return OpenApiParameter(
        "Location",
        OpenApiTypes.URI,
        OpenApiParameter.HEADER,
        response=list(statuses),
        description="The URL to poll for the created object.",
    )
