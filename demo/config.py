"""The demo's fixed ports, credentials and the environment the site, worker and providers run with.

The site is configured only through its normal settings (base URLs, keys, hosts), so every request
takes the production code path; the values here simply point those settings at the demo providers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
WEB_PORT = 8100
DEEZER_PORT = 8101
FREESOUND_PORT = 8102
FREESOUND_KEY = "demo-freesound-key"
HOST = "127.0.0.1"
# The demo catalog's artists (demo.content composes their albums), suggested by the banner.
ARTIST_NAMES = (
    "Aurora Mains",
    "The Velvet Static",
    "Clara Weiss Ensemble",
    "June & the Satellites",
    "Blue Hollow Trio",
    "Dusty Creek Band",
    "Island Current",
)


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    staff: bool


# Printed at start and shown on the sign-in banner: this is a local demo, not a secret.
DEMO_USER = Account("demo", "demo-listener-7", staff=False)
DEMO_ADMIN = Account("demo-admin", "demo-admin-7", staff=True)
ACCOUNTS = (DEMO_USER, DEMO_ADMIN)


@dataclass(frozen=True)
class Ports:
    web: int = WEB_PORT
    deezer: int = DEEZER_PORT
    freesound: int = FREESOUND_PORT


FIXED_PORTS = Ports()


def default_var_dir() -> Path:
    return BASE_DIR / "var" / "demo"


def provider_urls(ports: Ports) -> dict[str, str]:
    return {
        "DEEZER_API_URL": f"http://{HOST}:{ports.deezer}",
        "FREESOUND_API_URL": f"http://{HOST}:{ports.freesound}/apiv2/",
    }


def environment(var_dir: Path, ports: Ports = FIXED_PORTS) -> dict[str, str]:
    """Every setting the demo depends on, set explicitly so a `.env` written for `make run`
    (PostgreSQL, Redis, real keys) can neither leak into the demo nor be touched by it."""
    return {
        "DEBUG": "1",
        "DEMO_MODE": "1",
        "VAR_DIR": str(var_dir),
        "DATABASE_URL": f"sqlite:///{var_dir / 'db.sqlite3'}",
        "REDIS_URL": "",
        "MEDIA_ROOT": "",
        "STATIC_ROOT": "",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "HOST": HOST,
        "PORT": str(ports.web),
        **provider_urls(ports),
        "FREESOUND_API_KEY": FREESOUND_KEY,
        # The catalog is Deezer's (no Spotify keys); iTunes, the last preview fallback, is off.
        "SPOTIFY_CLIENT_ID": "",
        "SPOTIFY_CLIENT_SECRET": "",
        "ITUNES_API_URL": "",
        # The providers are plain http on this machine: allowed for previews and pack ZIPs.
        "PREVIEW_ALLOWED_HOSTS": HOST,
        "PREVIEW_ALLOW_LOOPBACK": "1",
        "FREESOUND_PREVIEW_HOSTS": HOST,
        # A restarted demo may serve a rebuilt library: never answer from yesterday's search cache.
        "FREESOUND_CACHE_SECONDS": "60",
        "CATALOG_CACHE_SECONDS": "60",
        # E-mails (password resets) go to the demo mailbox page the banner links to (demo.mail).
        "EMAIL_BACKEND": "demo.mail.MailboxBackend",
    }
