"""The Celery application. Configured from Django settings under the CELERY_ namespace."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sevenfour_site.settings")

app = Celery("sevenfour_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
