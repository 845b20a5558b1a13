from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("", views.new, name="new"),
    path("artist/<slug:provider>/<str:artist_id>/", views.artist, name="artist"),
    path("album/<slug:provider>/<str:album_id>/", views.album, name="album"),
    path("preview/<slug:provider>/<str:track_id>/", views.preview, name="preview"),
]
