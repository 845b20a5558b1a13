"""/catalog/: search the providers' artists, an artist's albums, an album's tracks."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.providers import default_provider_name, get_provider

from ..schema import errors
from ..serializers import (
    AlbumPageSerializer,
    ArtistPageSerializer,
    TrackPageSerializer,
)
from ..throttles import CatalogThrottle
from .base import PROVIDERS, ApiView

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
