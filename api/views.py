"""The REST API: one APIView per resource path, each method adapting the request to one existing
service or selector. Business rules live in the apps (predictions, catalog, samples), not here."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from catalog.providers import default_provider_name, get_provider
from catalog.uploads import (
    STORAGE_RETRY_AFTER,
    STORAGE_UNAVAILABLE,
    upload_declared_too_large,
    upload_storage_refused,
    validate_upload,
)
from predictions import selectors as prediction_selectors
from predictions import services as prediction_services
from predictions.models import Prediction
from predictions.taxonomy import genre_choices, served_model
from samples import selectors as sample_selectors
from samples import services as sample_services
from samples.models import Pack, PackExport, Sound
from samples.zips import pack_zip_filename

from .exceptions import ApiError, error_body
from .http import AuthenticatedRequest
from .pagination import Pagination
from .parsers import DepthLimitedJSONParser
from .schema import RETRY_AFTER, errors, location
from .serializers import (
    AlbumPageSerializer,
    ArtistPageSerializer,
    ExportSerializer,
    PackDetailSerializer,
    PackSerializer,
    PredictionDetailSerializer,
    PredictionSerializer,
    TrackPageSerializer,
)
from .throttles import CatalogThrottle, PredictionCreateThrottle


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


def _created(data: dict[str, Any], url: str, *, http_status: int) -> Response:
    return Response(data, status=http_status, headers={"Location": url})


def _paginated(request: Request, view: Any, queryset: Any, serializer: type) -> Response:
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(queryset, request, view=view)
    data = serializer(page, many=True, context={"request": request}).data
    return paginator.get_paginated_response(data)


# Every provider the site knows; one without keys configured here answers 404, as in the paths.
PROVIDERS = ["deezer", "spotify"]


# --- Genres -------------------------------------------------------------------------------------------


class GenreSerializer(serializers.Serializer):
    slug = serializers.CharField(help_text="The value of `genre` in predictions and filters.")
    name = serializers.CharField()


class GenreListApi(ApiView):
    class GenreListOutput(serializers.Serializer):
        model_name = serializers.CharField()
        model_version = serializers.CharField()
        genres = GenreSerializer(many=True)

    @extend_schema(
        summary="The genres the served model predicts, with its name and version",
        responses={200: GenreListOutput, **errors()},
    )
    def get(self, request: Request) -> Response:
        name, version = served_model()
        genres = [{"slug": slug, "name": label} for slug, label in genre_choices()]
        return Response({"model_name": name, "model_version": version, "genres": genres})


# --- Catalog ------------------------------------------------------------------------------------------

OFFSET_HELP = "Position of the first item; pass the previous page's `next_offset`."


class CatalogArtistSearchApi(ApiView):
    throttle_classes = [CatalogThrottle]

    class ArtistSearchInput(serializers.Serializer):
        q = serializers.CharField(max_length=100, help_text="An artist's name.")
        provider = serializers.ChoiceField(
            choices=PROVIDERS,
            required=False,
            help_text="Spotify only when the site has Spotify keys (else 404); default: the site's default.",
        )
        offset = serializers.IntegerField(min_value=0, max_value=1000, default=0, help_text=OFFSET_HELP)

    @extend_schema(
        summary="Search artists",
        parameters=[ArtistSearchInput],
        responses={200: ArtistPageSerializer, **errors(400, 404, 429, 503)},
    )
    def get(self, request: Request) -> Response:
        query = self.ArtistSearchInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        provider = get_provider(params.get("provider") or default_provider_name())
        page = provider.search_artists(params["q"], offset=params["offset"])
        return Response(ArtistPageSerializer(page).data)


class PageInput(serializers.Serializer):
    offset = serializers.IntegerField(min_value=0, max_value=1000, default=0, help_text=OFFSET_HELP)


CATALOG_PATH = [
    OpenApiParameter("provider", OpenApiTypes.STR, OpenApiParameter.PATH, description="deezer or spotify."),
]


class CatalogArtistAlbumsApi(ApiView):
    throttle_classes = [CatalogThrottle]

    @extend_schema(
        summary="An artist's albums",
        parameters=[PageInput, *CATALOG_PATH],
        responses={200: AlbumPageSerializer, **errors(400, 404, 429, 503)},
    )
    def get(self, request: Request, provider: str, artist_id: str) -> Response:
        query = PageInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = get_provider(provider).artist_albums(artist_id, offset=query.validated_data["offset"])
        return Response(AlbumPageSerializer(page).data)


class CatalogAlbumTracksApi(ApiView):
    throttle_classes = [CatalogThrottle]

    @extend_schema(
        summary="An album's tracks",
        parameters=[PageInput, *CATALOG_PATH],
        responses={200: TrackPageSerializer, **errors(400, 404, 429, 503)},
    )
    def get(self, request: Request, provider: str, album_id: str) -> Response:
        query = PageInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = get_provider(provider).album_tracks(album_id, offset=query.validated_data["offset"])
        return Response(TrackPageSerializer(page).data)


# --- Predictions --------------------------------------------------------------------------------------


def _own_prediction(request: Request, pk: int) -> Prediction:
    """Other users' predictions do not exist for this user: 404, never 403."""
    return get_object_or_404(Prediction, pk=pk, owner=request.user)


def _accepted(request: Request, prediction: Prediction) -> Response:
    # The job was sent (or not) when the create's transaction committed, after this instance was
    # built: read the row again so the message says whether it is queued or waiting for the queue.
    prediction.refresh_from_db()
    data = PredictionDetailSerializer(prediction, context={"request": request}).data
    return _created(data, data["url"], http_status=status.HTTP_202_ACCEPTED)


class PredictionListCreateApi(ApiView):
    pagination_class = Pagination
    parser_classes = [DepthLimitedJSONParser, MultiPartParser]

    class PredictionFilter(serializers.Serializer):
        genre = serializers.ChoiceField(choices=[], required=False, help_text="The top genre's slug.")
        status = serializers.ChoiceField(choices=Prediction.Status.choices, required=False)

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            genre = cast(serializers.ChoiceField, self.fields["genre"])  # declared just above
            genre.choices = genre_choices()  # the served model's labels

    class PredictionFromTrackInput(serializers.Serializer):
        provider = serializers.ChoiceField(
            choices=PROVIDERS, help_text="Spotify only when the site has Spotify keys (else 404)."
        )
        track_id = serializers.CharField(max_length=64, help_text="A track `id` from the catalog endpoints.")

    class PredictionUploadInput(serializers.Serializer):
        file = serializers.FileField(
            allow_empty_file=True,  # validate_upload has the friendlier message for empty files
            help_text="MP3, WAV, FLAC, Ogg or M4A; 30 seconds are enough. Size limit: UPLOAD_MAX_BYTES.",
        )

        def validate_file(self, value: Any) -> Any:
            validate_upload(value)  # the upload page's checks: size and a type sniffed from the content
            return value

    def get_throttles(self) -> list[BaseThrottle]:
        # Reading the list is cheap; creating runs the model.
        return [PredictionCreateThrottle()] if self.request.method == "POST" else []

    @extend_schema(
        summary="List your predictions, newest first",
        parameters=[PredictionFilter],
        responses={200: PredictionSerializer(many=True), **errors(400, 404)},
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        query = self.PredictionFilter(data=request.query_params)
        query.is_valid(raise_exception=True)
        predictions = prediction_selectors.prediction_list_for_user(
            user=request.user,
            genre=query.validated_data.get("genre", ""),
            status=query.validated_data.get("status", ""),
        )
        return _paginated(request, self, predictions, PredictionSerializer)

    @extend_schema(
        summary="Predict a song's genre, tempo and key",
        description=(
            'Send JSON `{"provider", "track_id"}` for a catalog track, or a multipart form with `file` '
            "for your own audio. The job runs in the background: the answer is 202 with the pending "
            "prediction and a Location to poll until `finished` is true."
        ),
        request={
            "application/json": PredictionFromTrackInput,
            "multipart/form-data": PredictionUploadInput,
        },
        parameters=[location(202), RETRY_AFTER],
        responses={202: PredictionDetailSerializer, **errors(400, 404, 413, 415, 422, 429, 503)},
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        if too_large := upload_declared_too_large(request.META.get("CONTENT_LENGTH", "")):
            return Response(error_body("too_large", too_large, {"file": [too_large]}), status=413)
        if request.content_type.startswith("multipart/"):
            upload = self.PredictionUploadInput(data=request.data)
            upload.is_valid(raise_exception=True)
            try:
                prediction = prediction_services.prediction_create_from_upload(
                    user=request.user, upload=upload.validated_data["file"]
                )
            except OSError as exc:
                if not upload_storage_refused(exc):
                    raise
                headers = {"Retry-After": str(STORAGE_RETRY_AFTER)}
                body = error_body("storage_unavailable", STORAGE_UNAVAILABLE)
                return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers=headers)
        else:
            track = self.PredictionFromTrackInput(data=request.data)
            track.is_valid(raise_exception=True)
            prediction = prediction_services.prediction_create_from_track(
                user=request.user, **track.validated_data
            )
        return _accepted(request, prediction)


class PredictionDetailApi(ApiView):
    @extend_schema(
        summary="A prediction: its status while it runs, then its result and recommended samples",
        responses={200: PredictionDetailSerializer, **errors(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        prediction = _own_prediction(request, pk)
        return Response(PredictionDetailSerializer(prediction, context={"request": request}).data)

    @extend_schema(summary="Delete a prediction", responses={204: None, **errors(404)})
    def delete(self, request: Request, pk: int) -> Response:
        prediction_services.prediction_delete(prediction=_own_prediction(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PredictionRerunApi(ApiView):
    throttle_classes = [PredictionCreateThrottle]

    @extend_schema(
        summary="Analyse the same song again with the current model",
        description="Creates a new prediction (the old one keeps its result); poll it like a new one.",
        request=None,
        parameters=[location(202), RETRY_AFTER],
        responses={202: PredictionDetailSerializer, **errors(404, 429)},
    )
    def post(self, request: Request, pk: int) -> Response:
        new = prediction_services.prediction_rerun(prediction=_own_prediction(request, pk))
        return _accepted(request, new)


def _checked(check: Any, value: Any) -> Any:
    """A predictions correction check as a DRF field validation (None, a reset, passes)."""
    if value is None:
        return None
    try:
        return check(value)
    except prediction_services.CorrectionError as exc:
        raise serializers.ValidationError(str(exc)) from exc


class PredictionCorrectionApi(ApiView):
    class CorrectionInput(serializers.Serializer):
        tempo_bpm = serializers.FloatField(
            required=False,
            allow_null=True,
            help_text="Your tempo in BPM (30–300); null goes back to the estimate.",
        )
        key = serializers.CharField(
            required=False,
            allow_null=True,
            max_length=20,
            help_text="Your key, e.g. “C major” (see `musical_key.alternatives`); null goes back to the estimate.",
        )
        genre = serializers.CharField(
            required=False,
            allow_null=True,
            max_length=32,
            help_text="A genre slug from /genres/, or “none” for none of them; null goes back to the model's.",
        )

        def validate_tempo_bpm(self, value: float | None) -> float | None:
            return _checked(prediction_services.correction_tempo, value)

        def validate_key(self, value: str | None) -> str | None:
            return _checked(prediction_services.correction_key, value)

        def validate_genre(self, value: str | None) -> str | None:
            return _checked(prediction_services.correction_genre, value)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if not attrs:
                raise serializers.ValidationError("Send at least one of tempo_bpm, key and genre.")
            return attrs

    @extend_schema(
        summary="Correct the tempo, key or genre (the samples follow)",
        description=(
            "Stores your value apart from the model's estimate and from any admin review, and finds the "
            "samples again with it (`samples_status` goes back to pending). Send only what you correct; "
            "null for a field goes back to the estimate."
        ),
        request=CorrectionInput,
        responses={200: PredictionDetailSerializer, **errors(400, 404, 409)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        prediction = _own_prediction(request, pk)
        data = self.CorrectionInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        set_values = {name: value for name, value in values.items() if value is not None}
        reset = tuple(
            ("tempo" if name == "tempo_bpm" else name) for name, value in values.items() if value is None
        )
        return self._correct(request, prediction, reset=reset, **set_values)

    @extend_schema(
        summary="Go back to the estimates: forget your tempo, key and genre",
        request=None,
        responses={200: PredictionDetailSerializer, **errors(404, 409)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        prediction = _own_prediction(request, pk)
        return self._correct(request, prediction, reset=("tempo", "key", "genre"))

    def _correct(self, request: Request, prediction: Prediction, **correction: Any) -> Response:
        if prediction.status != Prediction.Status.DONE:
            raise ApiError(409, "not_finished", "Only a finished analysis can be corrected.")
        try:
            prediction_services.prediction_correct(prediction=prediction, **correction)
        except prediction_services.CorrectionError as exc:
            raise serializers.ValidationError([str(exc)]) from exc
        prediction.refresh_from_db()
        return Response(PredictionDetailSerializer(prediction, context={"request": request}).data)


# --- Packs --------------------------------------------------------------------------------------------


def _own_pack(request: Request, pk: int) -> Pack:
    return get_object_or_404(Pack, pk=pk, owner=request.user)


class PackNameField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=100, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not value:
            raise serializers.ValidationError("Give the pack a name.")
        return value


class PackListCreateApi(ApiView):
    pagination_class = Pagination

    class PackCreateInput(serializers.Serializer):
        name = PackNameField()
        notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    @extend_schema(
        summary="List your sample packs, recently changed first",
        responses={200: PackSerializer(many=True), **errors(400, 404)},
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        return _paginated(
            request, self, sample_selectors.pack_list_for_user(user=request.user), PackSerializer
        )

    @extend_schema(
        summary="Create a pack",
        request=PackCreateInput,
        parameters=[location(201)],
        responses={201: PackDetailSerializer, **errors(400, 415)},
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = self.PackCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            pack = sample_services.pack_create(owner=request.user, **data.validated_data)
        except sample_services.PackNameTaken as exc:
            raise serializers.ValidationError({"name": [str(exc)]}) from exc
        output = PackDetailSerializer(pack, context={"request": request})
        return _created(output.data, output.data["url"], http_status=status.HTTP_201_CREATED)


class PackDetailApi(ApiView):
    class PackUpdateInput(serializers.Serializer):
        name = PackNameField(required=False)
        notes = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(summary="A pack and its sounds", responses={200: PackDetailSerializer, **errors(404)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(PackDetailSerializer(_own_pack(request, pk), context={"request": request}).data)

    @extend_schema(
        summary="Rename a pack or change its notes",
        request=PackUpdateInput,
        responses={200: PackDetailSerializer, **errors(400, 404, 415)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        pack = _own_pack(request, pk)
        data = self.PackUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        changes = {"name": pack.name, "notes": pack.notes, **data.validated_data}
        try:
            pack = sample_services.pack_update(pack=pack, **changes)
        except sample_services.PackNameTaken as exc:
            raise serializers.ValidationError({"name": [str(exc)]}) from exc
        return Response(PackDetailSerializer(pack, context={"request": request}).data)

    @extend_schema(summary="Delete a pack", responses={204: None, **errors(404)})
    def delete(self, request: Request, pk: int) -> Response:
        sample_services.pack_delete(pack=_own_pack(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PackSoundAddApi(ApiView):
    class PackSoundInput(serializers.Serializer):
        sound_id = serializers.IntegerField(
            min_value=1, help_text="A sound's `id`, from a prediction's recommendations."
        )

        def validate_sound_id(self, value: int) -> Sound:
            # The Sound itself, so that the view does not read the row a second time.
            sound = Sound.objects.filter(pk=value).first()
            if sound is None:
                raise serializers.ValidationError("No sound has this id.")
            return sound

    @extend_schema(
        summary="Add a sound to a pack",
        request=PackSoundInput,
        responses={
            201: OpenApiResponse(PackDetailSerializer, description="Added."),
            200: OpenApiResponse(PackDetailSerializer, description="It was already in the pack."),
            **errors(400, 404, 409, 415),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        pack = _own_pack(request, pk)
        data = self.PackSoundInput(data=request.data)
        data.is_valid(raise_exception=True)
        sound: Sound = data.validated_data["sound_id"]
        try:
            added = sample_services.pack_add_sound(pack=pack, sound=sound)
        except sample_services.PackFull as exc:
            raise ApiError(status.HTTP_409_CONFLICT, "pack_full", str(exc)) from exc
        output = PackDetailSerializer(pack, context={"request": request}).data
        return Response(output, status=status.HTTP_201_CREATED if added else status.HTTP_200_OK)


class PackSoundRemoveApi(ApiView):
    @extend_schema(summary="Remove a sound from a pack", responses={204: None, **errors(404)})
    def delete(self, request: Request, pk: int, sound_id: int) -> Response:
        pack = _own_pack(request, pk)
        sound = get_object_or_404(Sound, pk=sound_id)
        if not sample_services.pack_remove_sound(pack=pack, sound=sound):
            raise ApiError(status.HTTP_404_NOT_FOUND, "not_found", "This sound is not in the pack.")
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Pack ZIPs ----------------------------------------------------------------------------------------


def _own_export(request: Request, pk: int) -> PackExport:
    return get_object_or_404(PackExport.objects.select_related("pack"), pk=pk, pack__owner=request.user)


def _export_response(request: Request, export: PackExport, *, http_status: int) -> Response:
    data = ExportSerializer(export, context={"request": request}).data
    return Response(data, status=http_status, headers={"Location": data["url"]})


class PackExportApi(ApiView):
    @extend_schema(
        summary="Ask for the pack's ZIP",
        description=(
            "A worker builds the ZIP (the MP3 previews, ATTRIBUTION.txt and pack.json). The answer is 202 "
            "with the export to poll, or 200 when a ZIP of the pack as it is now is already built. "
            "Fetch it from `file_url` once `status` is `done`."
        ),
        request=None,
        parameters=[location(200, 202)],
        responses={
            202: OpenApiResponse(ExportSerializer, description="Building."),
            200: OpenApiResponse(ExportSerializer, description="Ready: download from `file_url`."),
            **errors(404, 409),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        pack = _own_pack(request, pk)
        if not pack.items.exists():
            raise ApiError(
                status.HTTP_409_CONFLICT, "pack_empty", "The pack is empty: add some sounds to it first."
            )
        export = sample_services.pack_export_request(pack=pack)
        ready = export.status == PackExport.Status.DONE
        return _export_response(request, export, http_status=status.HTTP_200_OK if ready else 202)


class ExportDetailApi(ApiView):
    @extend_schema(summary="A pack ZIP's build status", responses={200: ExportSerializer, **errors(404)})
    def get(self, request: Request, pk: int) -> Response:
        return _export_response(request, _own_export(request, pk), http_status=status.HTTP_200_OK)


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
    def get(self, request: Request, pk: int) -> HttpResponseBase:
        export = _own_export(request, pk)
        if export.status == PackExport.Status.FAILED:
            raise ApiError(
                status.HTTP_409_CONFLICT, "export_failed", export.error or "The ZIP could not be built."
            )
        if export.status != PackExport.Status.DONE or not export.file:
            data = ExportSerializer(export, context={"request": request}).data
            return Response(
                data, status=status.HTTP_202_ACCEPTED, headers={"Retry-After": str(EXPORT_POLL_SECONDS)}
            )
        return FileResponse(
            export.file.open("rb"),
            as_attachment=True,
            filename=pack_zip_filename(export.pack.name),
            content_type="application/zip",
        )
