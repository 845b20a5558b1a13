"""What every API view shares: the base class, the 404 for unknown paths, and the answers for a
created resource and a page of a list."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..exceptions import error_body


class ApiView(APIView):
    # DRF authenticates API requests itself (session or token) and answers 401/403 in JSON, so the
    # site's LoginRequiredMiddleware, which would redirect to the sign-in page, must let them through.

    @classmethod
    def as_view(cls, **initkwargs: Any):
        return login_not_required(super().as_view(**initkwargs))


@csrf_exempt  # a 404 in JSON for any method, not the CSRF failure page
@login_not_required
def endpoint_not_found(request: HttpRequest) -> JsonResponse:
    message = "No API endpoint has this URL; the list is at /api/docs/."
    return JsonResponse(error_body("not_found", message), status=status.HTTP_404_NOT_FOUND)


def created(data: dict[str, Any], url: str, *, http_status: int) -> Response:
    return Response(data, status=http_status, headers={"Location": url})


def paginated(request: Request, view: Any, queryset: Any, serializer: type) -> Response:
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(queryset, request, view=view)
    data = serializer(page, many=True, context={"request": request}).data
    return paginator.get_paginated_response(data)


# Every provider the site knows; one without keys configured here answers 404, as in the paths.
PROVIDERS = ["deezer", "spotify"]
