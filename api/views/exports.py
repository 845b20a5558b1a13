"""/packs/<pk>/export/ and /exports/: a pack's ZIP, built by a worker, and its download."""

from __future__ import annotations

from django.http import FileResponse
from django.http.response import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from samples import exports as sample_exports
from samples import selectors as sample_selectors
from samples.models import PackExport
from samples.quota import request_refusal
from samples.zips import pack_zip_filename

from ..exceptions import ApiError, Refused
from ..http import AuthenticatedRequest
from ..schema import RETRY_AFTER, errors, location
from ..serializers import (
    ExportSerializer,
)
from .base import ApiView


def _export_response(request: Request, export: PackExport, *, http_status: int) -> Response:
    data = ExportSerializer(export, context={"request": request}).data
    return Response(data, status=http_status, headers={"Location": data["url"]})


class PackExportApi(ApiView):
    @extend_schema(
        summary="Ask for the pack's ZIP",
        description=(
            "A worker builds the ZIP (the MP3 previews, ATTRIBUTION.txt and pack.json). The answer is 202 "
            "with the export to poll, or 200 when a ZIP of the pack as it is now is already built. "
            "Fetch it from `file_url` once `status` is `done`. 429 (with Retry-After) past the user's "
            "rate of ZIP requests or their daily allowance of render and ZIP bytes."
        ),
        request=None,
        parameters=[location(200, 202), RETRY_AFTER],
        responses={
            202: OpenApiResponse(ExportSerializer, description="Building."),
            200: OpenApiResponse(ExportSerializer, description="Ready: download from `file_url`."),
            **errors(404, 409, 429),
        },
    )
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        pack = sample_selectors.pack_get_for_user(user=request.user, pk=pk)
        if not pack.items.exists():
            raise ApiError(
                status.HTTP_409_CONFLICT, "pack_empty", "The pack is empty: add some sounds to it first."
            )
        # The pages' throttle and quota (samples.quota): one allowance for the web and the API.
        if refusal := request_refusal(request, scope="exports"):
            raise Refused(wait=refusal.retry_after, message=refusal.message)
        export = sample_exports.pack_export_request(pack=pack)
        ready = export.status == PackExport.Status.DONE
        return _export_response(request, export, http_status=status.HTTP_200_OK if ready else 202)


class ExportDetailApi(ApiView):
    @extend_schema(summary="A pack ZIP's build status", responses={200: ExportSerializer, **errors(404)})
    def get(self, request: AuthenticatedRequest, pk: int) -> Response:
        return _export_response(
            request,
            sample_selectors.export_get_for_user(user=request.user, pk=pk),
            http_status=status.HTTP_200_OK,
        )


EXPORT_POLL_SECONDS = 2


class ExportFileApi(ApiView):
    def perform_content_negotiation(self, request: Request, force: bool = False) -> tuple[BaseRenderer, str]:
        # `Accept: application/zip` must not be refused: the ZIP itself bypasses the renderers.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        summary="Download a pack ZIP",
        description="200 with the ZIP when it is ready; 202 with its status (and Retry-After) while building.",
        parameters=[
            OpenApiParameter(
                "Retry-After",
                OpenApiTypes.INT,
                OpenApiParameter.HEADER,
                response=[202],
                description="Seconds to wait before asking again.",
            )
        ],
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The ZIP."),
            202: OpenApiResponse(ExportSerializer, description="Still building."),
            **errors(404, 409),
        },
    )
    def get(self, request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
        export = sample_selectors.export_get_for_user(user=request.user, pk=pk)
        if export.status == PackExport.Status.FAILED:
            raise ApiError(
                status.HTTP_409_CONFLICT, "export_failed", export.error or "The ZIP could not be built."
            )
        if export.status != PackExport.Status.DONE or not export.file:
            data = ExportSerializer(export, context={"request": request}).data
            return Response(
                data, status=status.HTTP_202_ACCEPTED, headers={"Retry-After": str(EXPORT_POLL_SECONDS)}
            )
        sample_exports.export_touch(export)
        return FileResponse(
            export.file.open("rb"),
            as_attachment=True,
            filename=pack_zip_filename(export.pack.name),
            content_type="application/zip",
        )
