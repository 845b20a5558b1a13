"""/predictions/: create, list, read, delete, run again and correct the user's predictions."""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from predictions import corrections as prediction_corrections
from predictions import selectors as prediction_selectors
from predictions import services as prediction_services
from predictions.models import Prediction
from predictions.taxonomy import genre_choices
from predictions.uploads import (
    STORAGE_RETRY_AFTER,
    STORAGE_UNAVAILABLE,
    StorageRefused,
    upload_declared_too_large,
    validate_upload,
)

from ..exceptions import ApiError, error_body
from ..http import AuthenticatedRequest
from ..pagination import Pagination
from ..parsers import DepthLimitedJSONParser
from ..schema import RETRY_AFTER, errors, location
from ..serializers import (
    PredictionDetailSerializer,
    PredictionSerializer,
)
from ..throttles import CorrectionThrottle, PredictionCreateThrottle
from .base import PROVIDERS, ApiView, created, paginated


def _accepted(request: Request, prediction: Prediction) -> Response:
    # The job was sent (or not) when the create's transaction committed, after this instance was
    # built: read the row again so the message says whether it is queued or waiting for the queue.
    prediction.refresh_from_db()
    data = PredictionDetailSerializer(prediction, context={"request": request}).data
    return created(data, data["url"], http_status=status.HTTP_202_ACCEPTED)


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
        return paginated(request, self, predictions, PredictionSerializer)

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
            except StorageRefused:
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
    def get(self, request: AuthenticatedRequest, pk: int) -> Response:
        prediction = prediction_selectors.prediction_get_for_user(user=request.user, pk=pk)
        return Response(PredictionDetailSerializer(prediction, context={"request": request}).data)

    @extend_schema(summary="Delete a prediction", responses={204: None, **errors(404)})
    def delete(self, request: AuthenticatedRequest, pk: int) -> Response:
        prediction_services.prediction_delete(
            prediction=prediction_selectors.prediction_get_for_user(user=request.user, pk=pk)
        )
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
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        new = prediction_services.prediction_rerun(
            prediction=prediction_selectors.prediction_get_for_user(user=request.user, pk=pk)
        )
        return _accepted(request, new)


def _checked(check: Any, value: Any) -> Any:
    """A predictions correction check as a DRF field validation (None, a reset, passes)."""
    if value is None:
        return None
    try:
        return check(value)
    except prediction_corrections.CorrectionError as exc:
        raise serializers.ValidationError(str(exc)) from exc


class PredictionCorrectionApi(ApiView):
    throttle_classes = [CorrectionThrottle]

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
            return _checked(prediction_corrections.correction_tempo, value)

        def validate_key(self, value: str | None) -> str | None:
            return _checked(prediction_corrections.correction_key, value)

        def validate_genre(self, value: str | None) -> str | None:
            return _checked(prediction_corrections.correction_genre, value)

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
        parameters=[RETRY_AFTER],
        responses={200: PredictionDetailSerializer, **errors(400, 404, 409, 429)},
    )
    def patch(self, request: AuthenticatedRequest, pk: int) -> Response:
        prediction = prediction_selectors.prediction_get_for_user(user=request.user, pk=pk)
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
        parameters=[RETRY_AFTER],
        responses={200: PredictionDetailSerializer, **errors(404, 409, 429)},
    )
    def delete(self, request: AuthenticatedRequest, pk: int) -> Response:
        prediction = prediction_selectors.prediction_get_for_user(user=request.user, pk=pk)
        return self._correct(request, prediction, reset=("tempo", "key", "genre"))

    def _correct(self, request: Request, prediction: Prediction, **correction: Any) -> Response:
        if prediction.status != Prediction.Status.DONE:
            raise ApiError(409, "not_finished", "Only a finished analysis can be corrected.")
        try:
            prediction_corrections.prediction_correct(prediction=prediction, **correction)
        except prediction_corrections.CorrectionError as exc:
            raise serializers.ValidationError([str(exc)]) from exc
        prediction.refresh_from_db()
        return Response(PredictionDetailSerializer(prediction, context={"request": request}).data)
