"""The Celery application. Configured from Django settings under the CELERY_ namespace."""

import os

from celery import Celery

from . import broker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sevenfour_site.settings")

# Before any connection: kombu's redis and filesystem URLs get the project's transports (broker.py).
broker.install()
app = Celery("sevenfour_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Signal handlers and the model_status command of ML workers (loads the model before the first job).
from . import ml_worker  # noqa: E402, F401
