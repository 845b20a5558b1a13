from django.contrib import admin
from django.urls import include, path

from accounts.views import AdminLoginView

from . import views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("home/", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("", include("predictions.urls")),  # /new/ and /predictions/
    path("packs/", include("samples.urls")),
    path("api/", include("api.urls")),
    # The demo's mailbox: a 404 unless DEMO_MODE is on (`make demo`).
    path("demo/", include("demo.urls")),
    # Before the admin's own URLs: its sign-in page behind the site's sign-in throttle.
    path("admin/login/", AdminLoginView.as_view(), name="admin_login"),
    path("admin/", admin.site.urls),
]

# A request Django cannot parse (a malformed upload) gets a page that says what to do.
handler400 = "sevenfour_site.views.bad_request"
