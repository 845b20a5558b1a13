"""/packs/: the user's sample packs and the sounds in them."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from predictions.models import Prediction
from samples import packs as sample_packs
from samples import selectors as sample_selectors
from samples.models import Sound

from ..exceptions import ApiError
from ..http import AuthenticatedRequest
from ..pagination import Pagination
from ..schema import errors, location
from ..serializers import (
    PackDetailSerializer,
    PackSerializer,
)
from .base import ApiView, created, paginated


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
        return paginated(
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
            pack = sample_packs.pack_create(owner=request.user, **data.validated_data)
        except sample_packs.PackNameTaken as exc:
            raise serializers.ValidationError({"name": [str(exc)]}) from exc
        output = PackDetailSerializer(pack, context={"request": request})
        return created(output.data, output.data["url"], http_status=status.HTTP_201_CREATED)


class PackDetailApi(ApiView):
    class PackUpdateInput(serializers.Serializer):
        name = PackNameField(required=False)
        notes = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(summary="A pack and its sounds", responses={200: PackDetailSerializer, **errors(404)})
    def get(self, request: AuthenticatedRequest, pk: int) -> Response:
        return Response(
            PackDetailSerializer(
                sample_selectors.pack_get_for_user(user=request.user, pk=pk), context={"request": request}
            ).data
        )

    @extend_schema(
        summary="Rename a pack or change its notes",
        request=PackUpdateInput,
        responses={200: PackDetailSerializer, **errors(400, 404, 415)},
    )
    def patch(self, request: AuthenticatedRequest, pk: int) -> Response:
        pack = sample_selectors.pack_get_for_user(user=request.user, pk=pk)
        data = self.PackUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        changes = {"name": pack.name, "notes": pack.notes, **data.validated_data}
        try:
            pack = sample_packs.pack_update(pack=pack, **changes)
        except sample_packs.PackNameTaken as exc:
            raise serializers.ValidationError({"name": [str(exc)]}) from exc
        return Response(PackDetailSerializer(pack, context={"request": request}).data)

    @extend_schema(summary="Delete a pack", responses={204: None, **errors(404)})
    def delete(self, request: AuthenticatedRequest, pk: int) -> Response:
        sample_packs.pack_delete(pack=sample_selectors.pack_get_for_user(user=request.user, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PackSoundAddApi(ApiView):
    class PackSoundInput(serializers.Serializer):
        sound_id = serializers.IntegerField(
            min_value=1, help_text="A sound's `id`, from a prediction's recommendations."
        )

        prediction_id = serializers.IntegerField(
            min_value=1,
            required=False,
            allow_null=True,
            default=None,
            help_text="The prediction (one of your finished songs) the sound is saved from: a conformed "
            "pack ZIP renders it in that song's tempo and key. Saving a sound already in the pack "
            "with one records it when its song was not known.",
        )

        def validate_sound_id(self, value: int) -> Sound:
            # The Sound itself, so that the view does not read the row a second time.
            sound = Sound.objects.filter(pk=value).first()
            if sound is None:
                raise serializers.ValidationError("No sound has this id.")
            return sound

        def validate_prediction_id(self, value: int | None) -> Prediction | None:
            if value is None:
                return None
            song = sample_selectors.song_for_user(user=self.context["request"].user, pk=value)
            if song is None:
                raise serializers.ValidationError("None of your finished predictions has this id.")
            return song

    @extend_schema(
        summary="Add a sound to a pack",
        request=PackSoundInput,
        responses={
            201: OpenApiResponse(PackDetailSerializer, description="Added."),
            200: OpenApiResponse(PackDetailSerializer, description="It was already in the pack."),
            **errors(400, 404, 409, 415),
        },
    )
    def post(self, request: AuthenticatedRequest, pk: int) -> Response:
        pack = sample_selectors.pack_get_for_user(user=request.user, pk=pk)
        data = self.PackSoundInput(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        sound: Sound = data.validated_data["sound_id"]
        song: Prediction | None = data.validated_data["prediction_id"]
        try:
            added = sample_packs.pack_add_sound(pack=pack, sound=sound, song=song)
        except sample_packs.PackFull as exc:
            raise ApiError(status.HTTP_409_CONFLICT, "pack_full", str(exc)) from exc
        output = PackDetailSerializer(pack, context={"request": request}).data
        return Response(output, status=status.HTTP_201_CREATED if added else status.HTTP_200_OK)


class PackSoundRemoveApi(ApiView):
    @extend_schema(summary="Remove a sound from a pack", responses={204: None, **errors(404)})
    def delete(self, request: AuthenticatedRequest, pk: int, sound_id: int) -> Response:
        pack = sample_selectors.pack_get_for_user(user=request.user, pk=pk)
        sound = get_object_or_404(Sound, pk=sound_id)
        if not sample_packs.pack_remove_sound(pack=pack, sound=sound):
            raise ApiError(status.HTTP_404_NOT_FOUND, "not_found", "This sound is not in the pack.")
        return Response(status=status.HTTP_204_NO_CONTENT)
