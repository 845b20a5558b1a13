"""The demo's environment, loaded by the real settings in a fresh interpreter, and `demo_setup`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from demo import config

ROOT = Path(__file__).resolve().parents[2]
_DUMP = (
    "import json; from django.conf import settings as s; print(json.dumps({"
    "'db': s.DATABASES['default']['NAME'], 'broker': s.CELERY_BROKER_URL, 'media': str(s.MEDIA_ROOT), "
    "'deezer': s.DEEZER_API_URL, 'freesound': s.FREESOUND_API_URL, 'key': s.FREESOUND_API_KEY, "
    "'spotify': s.SPOTIFY_CLIENT_ID, 'itunes': s.ITUNES_API_URL, 'loopback': s.PREVIEW_ALLOW_LOOPBACK, "
    "'demo': s.DEMO_MODE, 'debug': s.DEBUG}))"
)


def _manage(var_dir: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE"}}
    # A .env or environment written for `make run` (PostgreSQL, Redis, a real key) must not leak in.
    env.update(
        DATABASE_URL="postgres://someone@db.example/prod",
        REDIS_URL="redis://cache.example:6379/0",
        FREESOUND_API_KEY="a-real-key",
        SPOTIFY_CLIENT_ID="a-real-id",
        **extra,
    )
    env.update(config.environment(var_dir))
    env["DJANGO_SETTINGS_MODULE"] = "sevenfour_site.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_demo_environment_points_the_normal_settings_at_the_demo_providers(tmp_path: Path):
    result = _manage(tmp_path, "shell", "-c", _DUMP)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])

    assert loaded == {
        "db": str(tmp_path / "db.sqlite3"),
        "broker": "filesystem://",
        "media": str(tmp_path / "media"),
        "deezer": f"http://127.0.0.1:{config.DEEZER_PORT}",
        "freesound": f"http://127.0.0.1:{config.FREESOUND_PORT}/apiv2/",
        "key": config.FREESOUND_KEY,
        "spotify": "",
        "itunes": "",
        "loopback": True,
        "demo": True,
        "debug": True,
    }


def test_demo_setup_creates_the_two_accounts_and_prints_how_to_sign_in(tmp_path: Path):
    assert _manage(tmp_path, "migrate", "--noinput").returncode == 0
    first = _manage(tmp_path, "demo_setup")
    again = _manage(tmp_path, "demo_setup")  # every start runs it: idempotent

    assert first.returncode == 0, first.stderr
    assert again.returncode == 0, again.stderr
    for account in config.ACCOUNTS:
        assert f"{account.username} / {account.password}" in first.stdout
    check = (
        "from django.contrib.auth import authenticate as a; "
        f"u = a(username={config.DEMO_USER.username!r}, password={config.DEMO_USER.password!r}); "
        f"s = a(username={config.DEMO_ADMIN.username!r}, password={config.DEMO_ADMIN.password!r}); "
        "print(bool(u), u.is_staff, bool(s), s.is_staff, s.is_superuser)"
    )
    signed_in = _manage(tmp_path, "shell", "-c", check)
    assert signed_in.stdout.split()[-5:] == ["True", "False", "True", "True", "True"], signed_in.stderr


def test_demo_setup_refuses_to_run_outside_demo_mode(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k != "DEMO_MODE"}
    env.update(DJANGO_SETTINGS_MODULE="sevenfour_site.settings", DEBUG="1", VAR_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "manage.py", "demo_setup"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "only runs with DEMO_MODE=1" in result.stderr
