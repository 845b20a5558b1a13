"""Django settings for Seven/Four, read from the environment.

Every variable is documented in `.env.example`. Defaults are safe for production
(DEBUG off, SECRET_KEY required) and need no services for local use
(SQLite under var/, an embedded filesystem broker for Celery).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Local state when no services are configured: the SQLite file, the filesystem broker, caches.
VAR_DIR = Path(env.str("VAR_DIR", default="") or BASE_DIR / "var")

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (see .env.example).")
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG-on"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "accounts",
    "catalog",
    "predictions",
    "samples",
    "demo",
]

MIDDLEWARE = [
    # Outermost, so that every response has the policy, the body cap's 413 included.
    "sevenfour_site.middleware.ContentSecurityPolicyMiddleware",
    # NUL bytes leave the query parameters before any view passes them to the database.
    "sevenfour_site.middleware.NulStripMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Once the user is known (the 413 page's header), before anything reads the body: none of the
    # middleware above does, and CSRF's check (process_view) runs after this one, so an oversized
    # body is refused unread.
    "sevenfour_site.middleware.RequestBodyLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
]

ROOT_URLCONF = "sevenfour_site.urls"
WSGI_APPLICATION = "sevenfour_site.wsgi.application"
ASGI_APPLICATION = "sevenfour_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "demo.context_processors.demo_mode",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write to the same file: WAL lets readers and one writer
    # work at once, and IMMEDIATE transactions wait for the lock instead of failing mid-way.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE", "timeout": 20}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, broker --------------------------------------------------------------------------
# Celery's time limits come first: the broker's visibility timeout below is derived from them.
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # Short socket timeouts: an unreachable Redis must cost a page a moment, not a hung worker.
    # Every cache user fails open (core.cache) or chooses its FailMode (core.ratelimit).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    # A message a worker took but never acknowledged is handed out again after the visibility
    # timeout. It must outlast any task run (the hard time limit) and any retry countdown the
    # worker holds unacknowledged (at most 5 min), or a healthy job's message would be handed to a
    # second worker. A dead worker's job does not wait for it: the sweep notices the stopped
    # heartbeat (PREDICTION_HEARTBEAT_TIMEOUT) and sends the job again.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 300),
        "socket_connect_timeout": 5,
        "queue_order_strategy": "priority",  # see "Queues and the beat schedule" below
        **env.json("CELERY_REDIS_TRANSPORT_OPTIONS", default={}),
    }
else:
    # A file cache is shared by the web process and the worker, which rate limits need.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    # kombu's filesystem transport needs no server and supports the broadcast that
    # `celery inspect ping` (and /healthz) uses.
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_broker_dir / "control"),
        # The worker looks for new message files this often (kombu's default is every second).
        "polling_interval": 0.2,
        "queue_order_strategy": "priority",  # honoured by sevenfour_site.broker, as Redis does
    }

# --- Celery (the CELERY_ namespace is read by sevenfour_site/celery.py) ---------------------
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# The database row is the truth for every job; Celery results are never read.
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker whose broker goes away keeps trying to reconnect, for ever (Celery gives up after 100
# tries by default, and the worker exits): a Redis restart or outage must never need a person to
# start the workers again. sevenfour_site.broker fixes the crash kombu had when Redis restarted
# under a running acks_late job.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# A job running when the connection drops is finished, not cancelled: its late acknowledgement
# reaches Redis once it is back (sevenfour_site.broker). Should the message be handed out again
# anyway, the job's row was claimed with a conditional UPDATE, so the second run does nothing.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TIMEZONE = "UTC"

# --- Queues and the beat schedule -----------------------------------------------------------
# Every task route and every periodic task, here and nowhere else (the tasks live in each app's
# tasks.py). Five queues, each worker listing the ones it serves most urgent first: with
# `queue_order_strategy` "priority" (set for both brokers above) a worker always takes the next
# message from the first non-empty queue in its `--queues` list, never in turn.
#   ml             a song a user waits for (the genre model): ML workers, one process each
#   ml-background  the audio index (the backbone over Freesound previews): ML workers, last, so a
#                  user's song always runs before it; each message is one batch, then it sends
#                  itself again, so a song waits for at most one batch
#   celery         Celery's default, so every task not routed here: spectrograms, samples stages,
#                  the Freesound index refresh: I/O workers
#   renders        pack ZIPs and conformed renders (long, CPU and disk heavy): render workers of
#                  their own, so they never hold up spectrograms or recommendations
#   sweeps         beat's sweeps: every worker consumes it, so the sweeps run while any worker is up
# Procfile, Procfile.dev, Procfile.demo and docker-compose.yml start workers with these lists.
ML_QUEUE = "ml"
ML_BACKGROUND_QUEUE = "ml-background"
RENDERS_QUEUE = "renders"
SWEEPS_QUEUE = "sweeps"
CELERY_TASK_ROUTES = {
    "predictions.predict_genre": {"queue": ML_QUEUE},
    "samples.audio_index": {"queue": ML_BACKGROUND_QUEUE},
    "samples.build_pack_zip": {"queue": RENDERS_QUEUE},
    "samples.render_conformed": {"queue": RENDERS_QUEUE},
    "predictions.sweep": {"queue": SWEEPS_QUEUE},
    "samples.sweep_runs": {"queue": SWEEPS_QUEUE},
    "samples.sweep_exports": {"queue": SWEEPS_QUEUE},
    "samples.expire_files": {"queue": SWEEPS_QUEUE},
}
# How often beat runs the sweeps (predictions, samples stages, pack ZIPs). A sweep message that no
# worker took within one interval is dropped (`expires`): the next one does the same work, and a
# worker coming back after an outage runs one sweep, not one per minute it was away.
SWEEP_INTERVAL = env.float("SWEEP_INTERVAL", default=60.0)
_SWEEP_OPTIONS = {"expires": SWEEP_INTERVAL}
CELERY_BEAT_SCHEDULE = {
    "sweep-stale-predictions": {
        "task": "predictions.sweep",
        "schedule": SWEEP_INTERVAL,
        "options": _SWEEP_OPTIONS,
    },
    "samples-refresh-index": {"task": "samples.refresh_index", "schedule": 15 * 60.0},
    # Samples stages whose message was lost are sent again, and stuck ones failed (like predictions).
    "samples-sweep-runs": {
        "task": "samples.sweep_runs",
        "schedule": SWEEP_INTERVAL,
        "options": _SWEEP_OPTIONS,
    },
    # Pack ZIPs get the same sweep: a lost message or a dead worker never leaves one "Queued" for ever.
    "samples-sweep-exports": {
        "task": "samples.sweep_exports",
        "schedule": SWEEP_INTERVAL,
        "options": _SWEEP_OPTIONS,
    },
    # Renders and pack ZIPs past their age or their disk budget are deleted, least recently used first.
    "samples-expire-files": {
        "task": "samples.expire_files",
        "schedule": 10 * 60.0,
        "options": {"expires": 10 * 60.0},
    },
    # Beat re-sends the audio index so a stopped run is carried on.
    "samples-audio-index": {"task": "samples.audio_index", "schedule": 10 * 60.0},
}

# --- Predictions ----------------------------------------------------------------------------
# The genre model artifact to serve (a folder written by `manage.py train_genre_model`);
# empty: the default artifact shipped in worker/heads/artifacts/ (worker.heads.genre_head.DEFAULT_ARTIFACT_DIR).
GENRE_MODEL_DIR = env.str("GENRE_MODEL_DIR", default="")
# A pending job whose message was sent this long ago (or never) is sent again by the sweep.
PREDICTION_REQUEUE_AFTER = env.int("PREDICTION_REQUEUE_AFTER", default=120)
# A running job older than this is failed by the sweep (its worker is gone).
PREDICTION_STALE_AFTER = env.int("PREDICTION_STALE_AFTER", default=CELERY_TASK_TIME_LIMIT + 120)
# How often a job retries transient errors (network, rate limits, database) before it fails.
PREDICTION_MAX_RETRIES = env.int("PREDICTION_MAX_RETRIES", default=5)
# The worker holding a job writes a heartbeat on its row this often; a heartbeat older than the
# timeout means the worker is gone, and the sweep sends the job again. A dead host's job is thus
# running again within about HEARTBEAT_TIMEOUT + SWEEP_INTERVAL (2 min by default).
PREDICTION_HEARTBEAT_INTERVAL = env.float("PREDICTION_HEARTBEAT_INTERVAL", default=15.0)
PREDICTION_HEARTBEAT_TIMEOUT = env.int("PREDICTION_HEARTBEAT_TIMEOUT", default=60)
# A job whose worker died this many times fails instead of being sent again (a song that kills
# its worker must not loop for ever).
PREDICTION_MAX_ATTEMPTS = env.int("PREDICTION_MAX_ATTEMPTS", default=3)
if PREDICTION_HEARTBEAT_TIMEOUT < 2 * PREDICTION_HEARTBEAT_INTERVAL:
    raise ImproperlyConfigured("PREDICTION_HEARTBEAT_TIMEOUT must be at least twice the heartbeat interval.")
if (
    CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", CELERY_TASK_TIME_LIMIT + 1)
    <= CELERY_TASK_TIME_LIMIT
):
    raise ImproperlyConfigured("CELERY_VISIBILITY_TIMEOUT must be longer than CELERY_TASK_TIME_LIMIT.")

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "landing"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# --- Who is asking, and how often they may (accounts/ratelimit.py, docs/security.md) ------------
# How many reverse proxies stand in front of the site, and the header they append the client's
# address to (a request.META name). 0: use REMOTE_ADDR, for a site reached directly.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
TRUSTED_PROXY_HEADER = env.str("TRUSTED_PROXY_HEADER", default="HTTP_X_FORWARDED_FOR")
# One policy for web pages and the API: "N/period" (s, min, hour, day) per scope, per signed-in
# user (predictions, catalog, password_change, renders, exports) or per client address (signup,
# password_reset);
# password_reset_email counts per e-mail address.
RATE_LIMITS = {
    "predictions": env.str("API_THROTTLE_PREDICTIONS", default="30/hour"),
    "catalog": env.str("API_THROTTLE_CATALOG", default="120/min"),
    # Each correction restarts the samples stage (samples.budget: the user's Freesound share).
    "corrections": env.str("THROTTLE_CORRECTIONS", default="30/hour"),
    "signup": env.str("THROTTLE_SIGNUP", default="5/hour"),
    "password_change": env.str("THROTTLE_PASSWORD_CHANGE", default="10/hour"),
    "password_reset": env.str("THROTTLE_PASSWORD_RESET", default="10/hour"),
    "password_reset_email": env.str("THROTTLE_PASSWORD_RESET_EMAIL", default="3/hour"),
    # Asking for a render that is not cached (the player, the WAV link) and for a pack ZIP (the
    # pack page, the API): each takes a render worker for seconds to minutes.
    "renders": env.str("THROTTLE_RENDERS", default="60/hour"),
    "exports": env.str("THROTTLE_EXPORTS", default="20/hour"),
    # E-mailed sign-in links: per client address, and per username from everywhere.
    "login_link": env.str("THROTTLE_LOGIN_LINK", default="10/hour"),
    "login_link_username": env.str("THROTTLE_LOGIN_LINK_USERNAME", default="3/hour"),
}
# Sign-in: failed attempts allowed per (username, client address) and per client address in
# LOGIN_RATE_WINDOW seconds; past either, that client waits. Nobody else is locked out: failures
# for one username from everywhere only slow sign-in for it down (a delay doubling from 1 s to
# LOGIN_USERNAME_MAX_DELAY after LOGIN_USERNAME_FREE failures), and a browser that signed in to
# the account before skips that delay.
LOGIN_RATE_LIMIT = env.int("LOGIN_RATE_LIMIT", default=10)
LOGIN_ADDRESS_LIMIT = env.int("LOGIN_ADDRESS_LIMIT", default=30)
LOGIN_RATE_WINDOW = env.int("LOGIN_RATE_WINDOW", default=300)
LOGIN_USERNAME_FREE = env.int("LOGIN_USERNAME_FREE", default=10)
LOGIN_USERNAME_MAX_DELAY = env.int("LOGIN_USERNAME_MAX_DELAY", default=10)

# --- E-mail (password reset) ------------------------------------------------------------------
# Development prints e-mails on the console; production sends them over SMTP (EMAIL_HOST etc.).
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Seven/Four <noreply@localhost>")
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60 * 3)
# A sign-in link (offered to a new browser while the account is under attack) works once, this long.
LOGIN_LINK_MAX_AGE = env.int("LOGIN_LINK_MAX_AGE", default=15 * 60)

# --- I18N, static, media --------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default="") or VAR_DIR / "staticfiles")
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default="") or VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Third-party services (all optional) ----------------------------------------------------
SPOTIFY_CLIENT_ID = env.str("SPOTIFY_CLIENT_ID", default="")
SPOTIFY_CLIENT_SECRET = env.str("SPOTIFY_CLIENT_SECRET", default="")
FREESOUND_API_KEY = env.str("FREESOUND_API_KEY", default="")

# --- Security -------------------------------------------------------------------------------
# docs/security.md explains each of these and how it is tested.
SECURE_CONTENT_TYPE_NOSNIFF = True
# Every asset is served from the site itself, so scripts may come from nowhere else. Pictures
# (album art) and audio (previews, Freesound) come from the catalogs' CDNs over https.
# style-src-attr allows the width of progress and score bars (style="width: 40%"): attribute
# styles cannot load anything or run script.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "style-src-attr": ["'unsafe-inline'"],
    "img-src": ["'self'", "data:", "https:"],
    "media-src": ["'self'", "https:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
# The API docs pages (Swagger UI, ReDoc) inject <style> elements and ReDoc searches in a blob: worker.
CSP_PATH_EXTRA = {
    "/api/docs/": {"style-src": ["'unsafe-inline'"]},
    "/api/redoc/": {"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]},
}
# /healthz answers the public with a bare liveness check; staff, or a monitor sending
# `Authorization: Bearer <HEALTHZ_TOKEN>`, get the database/broker/worker report, cached this long.
HEALTHZ_TOKEN = env.str("HEALTHZ_TOKEN", default="")
HEALTHZ_CACHE_SECONDS = env.float("HEALTHZ_CACHE_SECONDS", default=5.0)
# How long the ML workers' answer to "is the model loaded?" is reused by pages waiting on a queued
# song (core.workers), and how long a song waits in the queue before its page asks at all.
WORKER_STATUS_CACHE_SECONDS = env.float("WORKER_STATUS_CACHE_SECONDS", default=10.0)
QUEUE_NOTE_AFTER_SECONDS = env.float("QUEUE_NOTE_AFTER_SECONDS", default=10.0)
# Whole request bodies (an upload plus its multipart envelope) over this are refused unread, with
# 413. Put the same cap in front of the site (nginx: client_max_body_size); see docs/security.md.
REQUEST_BODY_MAX_BYTES: int = env.int("REQUEST_BODY_MAX_BYTES", default=0)  # 0: derived below
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Song sources (catalog) -----------------------------------------------------------------
# Each provider's base URL is a setting so tests (and staging) can point it at a local server.
DEEZER_API_URL = env.str("DEEZER_API_URL", default="https://api.deezer.com")
SPOTIFY_API_URL = env.str("SPOTIFY_API_URL", default="https://api.spotify.com/v1/")
SPOTIFY_TOKEN_URL = env.str("SPOTIFY_TOKEN_URL", default="https://accounts.spotify.com/api/token")
# Spotify lists an album once per market without one; client-credentials tokens have no user market.
SPOTIFY_MARKET = env.str("SPOTIFY_MARKET", default="US")
# iTunes Search is the last preview fallback; empty turns it off.
ITUNES_API_URL = env.str("ITUNES_API_URL", default="https://itunes.apple.com")
ITUNES_COUNTRY = env.str("ITUNES_COUNTRY", default="US")
FREESOUND_API_URL = env.str("FREESOUND_API_URL", default="https://freesound.org/apiv2/")
# Preview audio is downloaded only over https from these hosts ("*" matches one label or more).
PREVIEW_ALLOWED_HOSTS = env.list(
    "PREVIEW_ALLOWED_HOSTS",
    default=[
        "cdnt-preview.dzcdn.net",
        "cdns-preview-*.dzcdn.net",
        "p.scdn.co",
        "audio-ssl.itunes.apple.com",
        "cdn.freesound.org",
    ],
)
# Tests only: allow plain http to 127.0.0.1/::1 (the fake servers). Never in production.
PREVIEW_ALLOW_LOOPBACK = env.bool("PREVIEW_ALLOW_LOOPBACK", default=False)
PREVIEW_MAX_BYTES = env.int("PREVIEW_MAX_BYTES", default=10 * 1024 * 1024)
PREVIEW_CONNECT_TIMEOUT = env.float("PREVIEW_CONNECT_TIMEOUT", default=5.0)
PREVIEW_READ_TIMEOUT = env.float("PREVIEW_READ_TIMEOUT", default=15.0)
# A slow drip of bytes resets the read timeout; this bounds the whole download.
PREVIEW_TOTAL_TIMEOUT = env.float("PREVIEW_TOTAL_TIMEOUT", default=60.0)
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=25 * 1024 * 1024)
# Big uploads spool to a temporary file named by the server (the client's name can be any length).
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "sevenfour_site.upload_handlers.ServerNamedTemporaryFileUploadHandler",
]
# The request body cap (see Security above) defaults to an upload plus room for the form around it.
REQUEST_BODY_MAX_BYTES = REQUEST_BODY_MAX_BYTES or UPLOAD_MAX_BYTES + 64 * 1024
# Catalog pages (artists, albums, tracks) are stable: cache them for hours. Preview URLs never.
CATALOG_CACHE_SECONDS = env.int("CATALOG_CACHE_SECONDS", default=6 * 60 * 60)
CATALOG_CONNECT_TIMEOUT = env.float("CATALOG_CONNECT_TIMEOUT", default=3.05)
CATALOG_READ_TIMEOUT = env.float("CATALOG_READ_TIMEOUT", default=10.0)
# Requests allowed per provider per window, as [requests, seconds], shared by web and workers
# through the cache. Deezer allows 50 per 5 s per IP; iTunes about 20 a minute; Spotify publishes none.
CATALOG_RATE_LIMITS = env.json(
    "CATALOG_RATE_LIMITS",
    default={"deezer": [45, 5], "spotify": [60, 30], "itunes": [18, 60]},
)

# --- Samples (Freesound) --------------------------------------------------------------------
# FREESOUND_API_KEY and FREESOUND_API_URL are read above. Freesound allows 60 requests a minute
# and 2,000 a day per key; the site-wide budget stays below both (see docs/recommendations.md).
FREESOUND_RATE_PER_MINUTE = env.int("FREESOUND_RATE_PER_MINUTE", default=55)
FREESOUND_RATE_PER_DAY = env.int("FREESOUND_RATE_PER_DAY", default=1900)
# The index refresh stops while fewer than this many of today's requests are left, so live
# searches (the fallback) and "More like these" always have some.
FREESOUND_LIVE_RESERVE = env.int("FREESOUND_LIVE_RESERVE", default=1000)
# Live searches one user's songs may spend in 24 hours (first samples, corrections, "More like
# these"); past it their samples come from the local index only, so no user spends the site's day.
FREESOUND_USER_DAILY_SHARE = env.int("FREESOUND_USER_DAILY_SHARE", default=100)
# Search responses are shared by all users for this long.
FREESOUND_CACHE_SECONDS = env.int("FREESOUND_CACHE_SECONDS", default=24 * 60 * 60)
# ...except a search that found nothing: new uploads or a widened genre search may fill it soon.
FREESOUND_EMPTY_CACHE_SECONDS = env.int("FREESOUND_EMPTY_CACHE_SECONDS", default=10 * 60)
FREESOUND_CONNECT_TIMEOUT = env.float("FREESOUND_CONNECT_TIMEOUT", default=3.05)
FREESOUND_READ_TIMEOUT = env.float("FREESOUND_READ_TIMEOUT", default=10.0)
# All Freesound requests of one web request ("More like these") share this many seconds.
FREESOUND_WEB_TIME_LIMIT = env.float("FREESOUND_WEB_TIME_LIMIT", default=8.0)
# The local index: pages of 150 sounds fetched per search phrase, and how old a genre's index may get.
FREESOUND_INDEX_PAGES = env.int("FREESOUND_INDEX_PAGES", default=2)
FREESOUND_INDEX_MAX_AGE = env.int("FREESOUND_INDEX_MAX_AGE", default=7 * 24 * 60 * 60)
# Requests one index run may spend, so a refresh never takes the whole per-minute budget from users.
FREESOUND_INDEX_REQUESTS_PER_RUN = env.int("FREESOUND_INDEX_REQUESTS_PER_RUN", default=20)
# Below this top-genre confidence, two of the five samples come from the second genre.
SAMPLES_MIX_BELOW_CONFIDENCE = env.float("SAMPLES_MIX_BELOW_CONFIDENCE", default=0.5)
# Tempo and key confidences (0–1) in words on the result page: "sure" at or above the first,
# "unsure" below the second, "fairly sure" between. An unsure tempo shows its octave alternative.
# Calibrated on the real development set by bench/calibrate.py (docs/accuracy.md, "Confidence"): a
# "sure" tempo was right (within 4 %) at least 90 % of the time there. No key threshold reached 90 %
# exact on its 74 keyed clips, so a key is never "sure" (1.01) until a larger set says otherwise.
TEMPO_SURE_AT = env.float("TEMPO_SURE_AT", default=0.833)
TEMPO_UNSURE_BELOW = env.float("TEMPO_UNSURE_BELOW", default=0.639)
KEY_SURE_AT = env.float("KEY_SURE_AT", default=1.01)
KEY_UNSURE_BELOW = env.float("KEY_UNSURE_BELOW", default=0.44)
# Pack ZIPs with at most this many sounds are built in the request; larger ones by a worker.
PACK_ZIP_STREAM_MAX_ITEMS = env.int("PACK_ZIP_STREAM_MAX_ITEMS", default=8)
# How long a small pack's ZIP may take inside the web request (gunicorn's timeout is 30 s); past
# it, a worker builds the ZIP and the page shows its progress.
PACK_ZIP_REQUEST_SECONDS = env.float("PACK_ZIP_REQUEST_SECONDS", default=15.0)
# Previews go into pack ZIPs only from these hosts, over https (loopback only with
# PREVIEW_ALLOW_LOOPBACK, for tests).
FREESOUND_PREVIEW_HOSTS = env.list("FREESOUND_PREVIEW_HOSTS", default=["cdn.freesound.org", "freesound.org"])
# Original files with the user's own Freesound account (OAuth2 authorization-code grant; see
# docs/recommendations.md "Original files"). Off while FREESOUND_CLIENT_ID is empty: the pages
# offer previews only. Register the app's callback URL at https://freesound.org/apiv2/apply as
# https://<your host>/packs/freesound/callback/ (Freesound redirects there after "Authorize").
FREESOUND_CLIENT_ID = env.str("FREESOUND_CLIENT_ID", default="")
FREESOUND_CLIENT_SECRET = env.str("FREESOUND_CLIENT_SECRET", default="")
FREESOUND_OAUTH_URL = env.str("FREESOUND_OAUTH_URL", default="https://freesound.org/apiv2/oauth2/")
# "Connect Freesound" is a form whose answer redirects to Freesound's authorize page: CSP's
# form-action must allow that origin there (and only there).
CSP_PATH_EXTRA["/packs/freesound/"] = {
    "form-action": ["{0.scheme}://{0.netloc}".format(urlsplit(FREESOUND_OAUTH_URL))]
}
# The key the stored tokens are encrypted with (Fernet); empty: one derived from SECRET_KEY, so
# changing SECRET_KEY then disconnects every account (see docs/security.md).
FREESOUND_TOKEN_KEY = env.str("FREESOUND_TOKEN_KEY", default="")
# Originals are streamed to a temporary file, refused past this size, and cached per sound.
FREESOUND_ORIGINAL_MAX_BYTES = env.int("FREESOUND_ORIGINAL_MAX_BYTES", default=200 * 1024 * 1024)
FREESOUND_ORIGINAL_TOTAL_TIMEOUT = env.float("FREESOUND_ORIGINAL_TOTAL_TIMEOUT", default=120.0)
# The audio index (samples/indexing.py; its route and schedule are under "Queues" above).
# Sounds per backbone call, seconds a run started in-process may take (the task does one batch per
# message, then sends the next behind any song), and the pause between two preview downloads
# (Freesound's CDN is not an API, but is shared: at most one a second).
# Off: no sound is analysed (no ML worker to spare); ranking then keeps the tempo and key rules.
AUDIO_INDEX_ENABLED = env.bool("AUDIO_INDEX_ENABLED", default=True)
# A song waits for at most one batch (about AUDIO_INDEX_BATCH × (interval + 0.3) s).
AUDIO_INDEX_BATCH = env.int("AUDIO_INDEX_BATCH", default=8)
AUDIO_INDEX_TIME_LIMIT = env.float("AUDIO_INDEX_TIME_LIMIT", default=120.0)
AUDIO_INDEX_PREVIEW_INTERVAL = env.float("AUDIO_INDEX_PREVIEW_INTERVAL", default=1.0)
# Conforming samples to a song (Rubber Band renders, issue 13): samples longer than this are not
# rendered; a render may take this long on an I/O worker; a queued one not started by then is sent again.
CONFORM_MAX_SECONDS = env.float("CONFORM_MAX_SECONDS", default=30.0)
CONFORM_TIME_LIMIT = env.int("CONFORM_TIME_LIMIT", default=60)
CONFORM_RESEND_AFTER = env.int("CONFORM_RESEND_AFTER", default=120)
# What any render may be, on every path (the page, the render task, a pack ZIP): a stretch between
# these ratios (new length / old length), and a WAV of at most this many seconds and bytes
# (samples.conform.conforming.output_refusal). issue 28: a "999 BPM" sample made a 500 s, 88 MB WAV.
CONFORM_MIN_RATIO = env.float("CONFORM_MIN_RATIO", default=0.5)
CONFORM_MAX_RATIO = env.float("CONFORM_MAX_RATIO", default=2.0)
CONFORM_MAX_OUTPUT_SECONDS = env.float("CONFORM_MAX_OUTPUT_SECONDS", default=60.0)
CONFORM_MAX_OUTPUT_BYTES = env.int("CONFORM_MAX_OUTPUT_BYTES", default=12_000_000)
# Each user may have this many bytes of renders and ZIPs written for them in a rolling 24 hours
# (samples.quota): a render served from the cache costs nothing, a new one its WAV's size.
RENDER_QUOTA_BYTES = env.int("RENDER_QUOTA_BYTES", default=500_000_000)
# Renders and ZIPs kept on disk (samples.expiry, run by beat): files unused for the max age go, and
# then the least recently used ones until each kind is under its budget. An expired render is
# rendered again when asked for; an expired ZIP's page says so and offers to build it again.
RENDERS_MAX_BYTES = env.int("RENDERS_MAX_BYTES", default=2_000_000_000)
EXPORTS_MAX_BYTES = env.int("EXPORTS_MAX_BYTES", default=2_000_000_000)
RENDERS_MAX_AGE_DAYS = env.float("RENDERS_MAX_AGE_DAYS", default=14.0)
EXPORTS_MAX_AGE_DAYS = env.float("EXPORTS_MAX_AGE_DAYS", default=3.0)
# The song excerpt the beat grid covers when it is laid from the tempo alone.
CONFORM_SONG_EXCERPT_S = 30.0

# --- Demo (`make demo`) ---------------------------------------------------------------------
# On: every page shows a "demo mode" banner, and `manage.py demo_setup` may create the demo
# accounts. The demo's providers are configured through the normal settings above (demo/config.py).
DEMO_MODE = env.bool("DEMO_MODE", default=False)

# --- REST API -------------------------------------------------------------------------------
INSTALLED_APPS += ["api"]
REST_FRAMEWORK = {
    # Token first: its challenge makes unauthenticated requests 401 (with WWW-Authenticate), not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON with a nesting limit (api/parsers.py): a deeply nested body is a 400, not a 500.
    "DEFAULT_PARSER_CLASSES": ["api.parsers.DepthLimitedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "PAGE_SIZE": 20,
    # Views pick their throttles (api/throttles.py); the rates are RATE_LIMITS, shared with the pages.
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Seven/Four API",
    "DESCRIPTION": (
        "Predict a song's genre, tempo and key, and collect the Freesound samples recommended for it "
        "into packs. Authenticate with a personal token (`Authorization: Token <secret>`, from "
        "/accounts/tokens/) or a browser session. Errors share one shape: "
        '`{"error": {"code", "message", "field_errors"}}`. See docs/api.md for a walk-through.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Predictions and pack ZIPs both have a `status`, with different values.
    "ENUM_NAME_OVERRIDES": {
        "PredictionStatusEnum": "predictions.models.Prediction.Status",
        "ExportStatusEnum": "samples.models.PackExport.Status",
    },
}
