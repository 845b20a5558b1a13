from __future__ import annotations

from django.urls import path

from . import freesound_views, library_views, views
from .conform import views as conform_views

app_name = "samples"

urlpatterns = [
    path("", views.pack_list, name="pack_list"),
    path("new/", views.pack_create, name="pack_create"),
    path("<int:pk>/", views.pack_detail, name="pack_detail"),
    path("<int:pk>/library/", library_views.pack_library, name="pack_library"),
    path("predictions/<int:prediction_pk>/library/", library_views.song_library, name="song_library"),
    path("<int:pk>/edit/", views.pack_edit, name="pack_edit"),
    path("<int:pk>/delete/", views.pack_delete, name="pack_delete"),
    path("<int:pk>/download/", views.pack_download, name="pack_download"),
    path("<int:pk>/sounds/<int:sound_pk>/add/", views.pack_item_add, name="pack_item_add"),
    path("<int:pk>/sounds/<int:sound_pk>/remove/", views.pack_item_remove, name="pack_item_remove"),
    path("save/", views.sound_save, name="sound_save"),
    path("sounds/<int:sound_pk>/similar/", views.sound_similar, name="sound_similar"),
    path("exports/<int:pk>/", views.export_detail, name="export_detail"),
    path("exports/<int:pk>/file/", views.export_file, name="export_file"),
    path("predictions/<int:prediction_pk>/", views.prediction_samples, name="prediction_samples"),
    path("predictions/<int:prediction_pk>/more/", views.recommendations_more, name="recommendations_more"),
    path("preferences/", views.preference_update, name="preference_update"),
    # The sample browser (issue 13): renders in the song's tempo and key, downloads for a DAW.
    path(
        "predictions/<int:prediction_pk>/sounds/<int:sound_pk>/conform/",
        conform_views.conform,
        name="conform",
    ),
    path(
        "predictions/<int:prediction_pk>/sounds/<int:sound_pk>/conformed.wav",
        conform_views.conformed_download,
        name="conformed_download",
    ),
    path("renders/<int:pk>/audio/", conform_views.render_audio, name="render_audio"),
    path("sounds/<int:sound_pk>/original/", conform_views.original_download, name="original_download"),
    # The user's own Freesound account (OAuth2) and the original files it downloads (issue 25.3).
    path("sounds/<int:sound_pk>/original-file/", freesound_views.original_file, name="original_file"),
    path("freesound/", freesound_views.freesound_account, name="freesound_account"),
    path("freesound/connect/", freesound_views.freesound_connect, name="freesound_connect"),
    path("freesound/callback/", freesound_views.freesound_callback, name="freesound_callback"),
    path("freesound/disconnect/", freesound_views.freesound_disconnect, name="freesound_disconnect"),
]
