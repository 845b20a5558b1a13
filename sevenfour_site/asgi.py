import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sevenfour_site.settings")
django_application = get_asgi_application()

from .asgi_limits import BodyLimitASGI  # noqa: E402  (needs the settings configured above)

# Django's ASGI handler reads the whole body into a temporary file before any middleware runs,
# so the body cap has to wrap the application itself.
application = BodyLimitASGI(django_application)
