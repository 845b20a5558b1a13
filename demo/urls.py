from django.urls import path

from . import views

app_name = "demo"

urlpatterns = [
    path("mail/", views.mailbox, name="mailbox"),
]
