"""Settings for the test suite: the real settings, with a test key and faster hashing.

DATABASE_URL and REDIS_URL are honoured as in production, so CI runs against PostgreSQL
and Redis; without them the tests use SQLite and the embedded broker.
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")

from .settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["*"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# Each test gets a clean, private cache: the shared Redis or file cache would leak state between tests.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# WhiteNoise warns when STATIC_ROOT is missing; tests serve static files through the finders.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
WHITENOISE_USE_FINDERS = True
# A file, not SQLite's in-memory default, so Celery workers started as separate processes by the
# tests see the same test database (PostgreSQL test databases are shared that way already).
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # One file per test process, so concurrent test runs (or xdist workers) never share it.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"sevenfour-test-{os.getpid()}.sqlite3")
    }  # noqa: F405

# Without Redis, tests get a filesystem broker of their own: a site started with `make run` on
# this machine must never consume (or see) the tests' messages.
if not REDIS_URL:  # noqa: F405
    _test_broker = Path(tempfile.mkdtemp(prefix="sevenfour-test-broker-"))
    _folders = {
        "data_folder_in": str(_test_broker / "queue"),
        "data_folder_out": str(_test_broker / "queue"),
        "processed_folder": str(_test_broker / "processed"),
        "control_folder": str(_test_broker / "control"),
    }
    for _folder in _folders.values():
        Path(_folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {**_folders, "queue_order_strategy": "priority"}
