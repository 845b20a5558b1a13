from django.urls import path

app_name = "samples"

# The sample-pack pages are added here.
urlpatterns: list = []
