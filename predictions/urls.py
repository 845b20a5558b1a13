from django.urls import include, path

from . import new_views, views

app_name = "predictions"

# The New prediction page, under /new/: find a song in a catalog, or upload a file.
new_page = [
    path("", new_views.new, name="new"),
    path("artist/<slug:provider>/<str:artist_id>/", new_views.artist, name="new_artist"),
    path("album/<slug:provider>/<str:album_id>/", new_views.album, name="new_album"),
    path("preview/<slug:provider>/<str:track_id>/", new_views.preview, name="new_preview"),
]

# The predictions themselves, under /predictions/.
prediction_pages = [
    path("", views.history, name="history"),
    path("new/pick/", new_views.create_from_pick, name="create_from_pick"),
    path("new/upload/", new_views.create_from_upload, name="create_from_upload"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/status/", views.status, name="status"),
    path("<int:pk>/result/", views.result_panel, name="result"),
    path("<int:pk>/status.json", views.status_json, name="status_json"),
    path("<int:pk>/audio/", views.audio, name="audio"),
    path("<int:pk>/spectrogram.png", views.spectrogram, name="spectrogram"),
    path("<int:pk>/spectrogram/", views.spectrogram_slot, name="spectrogram_slot"),
    path("<int:pk>/correct/", views.correct, name="correct"),
    path("<int:pk>/rerun/", views.rerun, name="rerun"),
    path("<int:pk>/delete/", views.delete, name="delete"),
]

urlpatterns = [
    path("new/", include(new_page)),
    path("predictions/", include(prediction_pages)),
]
