from django.urls import path

from . import views

app_name = "predictions"

urlpatterns = [
    path("", views.history, name="history"),
    path("<int:pk>/", views.detail, name="detail"),
]
