"""Settings are safe in production by default; checked in fresh interpreters with a controlled environment."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    ours = {
        "DEBUG",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    }  # the browser tests set the last
    clean = {k: v for k, v in os.environ.items() if k not in ours}
    clean.update({"DJANGO_SETTINGS_MODULE": "sevenfour_site.settings", **env})
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_secret_key_is_required_when_debug_is_off():
    result = run_manage("check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_production_settings_pass_the_deployment_checklist():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_debug_mode_runs_without_any_configuration():
    result = run_manage("check", DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_a_visibility_timeout_shorter_than_the_time_limit_is_refused():
    # Redis would hand a healthy job's message to a second worker while the first still runs it.
    result = run_manage(
        "check", DEBUG="1", REDIS_URL="redis://127.0.0.1:1/0", CELERY_TASK_TIME_LIMIT="300",
        CELERY_VISIBILITY_TIMEOUT="120",
    )  # fmt: skip
    assert result.returncode != 0
    assert "CELERY_VISIBILITY_TIMEOUT must be longer than CELERY_TASK_TIME_LIMIT" in result.stderr


def test_the_default_visibility_timeout_outlasts_the_time_limit_and_any_retry_countdown():
    script = (
        "from django.conf import settings as s; "
        "print(s.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'], s.CELERY_TASK_TIME_LIMIT)"
    )
    result = run_manage("shell", "-c", script, DEBUG="1", REDIS_URL="redis://127.0.0.1:1/0")
    visibility, time_limit = map(int, result.stdout.splitlines()[-1].split())  # after shell's banner
    assert visibility > time_limit
    assert visibility > 300  # core.jobs.retry_countdown's longest wait, held unacknowledged


def test_email_goes_to_the_console_in_development_and_over_smtp_in_production():
    script = "from django.conf import settings as s; print(s.EMAIL_BACKEND)"
    dev = run_manage("shell", "-c", script, DEBUG="1")
    prod = run_manage(
        "shell", "-c", script, SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="example.com"
    )
    assert dev.stdout.splitlines()[-1] == "django.core.mail.backends.console.EmailBackend", dev.stderr
    assert prod.stdout.splitlines()[-1] == "django.core.mail.backends.smtp.EmailBackend", prod.stderr
