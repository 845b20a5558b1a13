from django.urls import path

from . import views

app_name = "predictions"

urlpatterns = [
    path("", views.history, name="history"),
    path("new/pick/", views.create_from_pick, name="create_from_pick"),
    path("new/upload/", views.create_from_upload, name="create_from_upload"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/status/", views.status, name="status"),
    path("<int:pk>/status.json", views.status_json, name="status_json"),
    path("<int:pk>/audio/", views.audio, name="audio"),
    path("<int:pk>/spectrogram.png", views.spectrogram, name="spectrogram"),
    path("<int:pk>/spectrogram/", views.spectrogram_slot, name="spectrogram_slot"),
    path("<int:pk>/correct/", views.correct, name="correct"),
    path("<int:pk>/rerun/", views.rerun, name="rerun"),
    path("<int:pk>/delete/", views.delete, name="delete"),
]
