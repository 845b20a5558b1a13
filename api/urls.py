from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import docs
from .views import base, catalog, exports, genres, packs, predictions

app_name = "api"

v1 = [
    path("genres/", genres.GenreListApi.as_view(), name="genres"),
    path("catalog/artists/", catalog.CatalogArtistSearchApi.as_view(), name="catalog-artists"),
    path(
        "catalog/<slug:provider>/artists/<str:artist_id>/albums/",
        catalog.CatalogArtistAlbumsApi.as_view(),
        name="catalog-artist-albums",
    ),
    path(
        "catalog/<slug:provider>/albums/<str:album_id>/tracks/",
        catalog.CatalogAlbumTracksApi.as_view(),
        name="catalog-album-tracks",
    ),
    path("predictions/", predictions.PredictionListCreateApi.as_view(), name="predictions"),
    path("predictions/<int:pk>/", predictions.PredictionDetailApi.as_view(), name="prediction-detail"),
    path(
        "predictions/<int:pk>/correction/",
        predictions.PredictionCorrectionApi.as_view(),
        name="prediction-correction",
    ),
    path("predictions/<int:pk>/rerun/", predictions.PredictionRerunApi.as_view(), name="prediction-rerun"),
    path("packs/", packs.PackListCreateApi.as_view(), name="packs"),
    path("packs/<int:pk>/", packs.PackDetailApi.as_view(), name="pack-detail"),
    path("packs/<int:pk>/sounds/", packs.PackSoundAddApi.as_view(), name="pack-sounds"),
    path("packs/<int:pk>/sounds/<int:sound_id>/", packs.PackSoundRemoveApi.as_view(), name="pack-sound"),
    path("packs/<int:pk>/export/", exports.PackExportApi.as_view(), name="pack-export"),
    path("exports/<int:pk>/", exports.ExportDetailApi.as_view(), name="export-detail"),
    path("exports/<int:pk>/file/", exports.ExportFileApi.as_view(), name="export-file"),
]

# The schema and its docs are public: they describe the API, not anyone's data.
urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", login_not_required(SpectacularAPIView.as_view()), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: the site's CSP runs no inline script.
    path(
        "docs/", login_not_required(SpectacularSwaggerSplitView.as_view(url_name="api:schema")), name="docs"
    ),
    path(
        "redoc/",
        # Our own page: ReDoc's stock one loads Google Fonts; its start-up script is a static file.
        login_not_required(docs.RedocView.as_view(url_name="api:schema", template_name="api/redoc.html")),
        name="redoc",
    ),
    # ReDoc's script without its request for Redocly's logo on cdn.redoc.ly (api/docs.py).
    path("redoc/redoc.standalone.js", docs.redoc_bundle, name="redoc-bundle"),
    # Anything else under /api/ answers in the API's error shape, not with the site's HTML 404 page.
    re_path(r"^[\s\S]*$", base.endpoint_not_found),  # any path, even one with a newline
]
