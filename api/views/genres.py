"""/genres/: the genres the served model predicts."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from predictions.taxonomy import genre_choices, served_model

from ..schema import errors
from .base import ApiView


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
