""".env.example is safe to copy: as shipped it changes no setting, and a copy with only
FREESOUND_API_KEY filled in runs like `make run` (DEBUG on, SQLite, the embedded broker).

Each check runs in a fresh interpreter that loads the file the way settings.py loads `.env`
(django-environ, before the settings are read), with none of the file's variables in the environment.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / ".env.example"

# Load an env file (or none), then run a manage.py command, in this order, like settings.py does.
_RUNNER = """
import sys, environ
if sys.argv[1]:
    environ.Env.read_env(sys.argv[1], overwrite=True)
from django.core.management import execute_from_command_line
execute_from_command_line(["manage.py", *sys.argv[2:]])
"""
_DUMP = (
    "import json; from django.conf import settings; "
    "print(json.dumps({k: str(getattr(settings, k)) for k in dir(settings) if k.isupper()}))"
)


def _variables(text: str) -> set[str]:
    """Every NAME in the file, set or shown commented out (`# NAME=` or `# Production: NAME=`)."""
    return set(re.findall(r"^#?\s*(?:Production:\s*)?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def _run(env_file: Path | None, *args: str, var_dir: Path) -> subprocess.CompletedProcess[str]:
    names = _variables(EXAMPLE.read_text()) | {"DJANGO_ALLOW_ASYNC_UNSAFE", "DEMO_MODE"}
    env = {k: v for k, v in os.environ.items() if k not in names}
    # What `make run` sets; VAR_DIR keeps this run's SQLite file and broker out of the project.
    env.update({"DJANGO_SETTINGS_MODULE": "sevenfour_site.settings", "DEBUG": "1", "VAR_DIR": str(var_dir)})
    return subprocess.run(
        [sys.executable, "-c", _RUNNER, str(env_file or ""), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _settings(env_file: Path | None, var_dir: Path) -> dict[str, str]:
    result = _run(env_file, "shell", "-c", _DUMP, var_dir=var_dir)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_example_as_shipped_changes_no_setting(tmp_path: Path) -> None:
    without = _settings(None, tmp_path)
    with_example = _settings(EXAMPLE, tmp_path)

    assert with_example == without


def test_a_copy_with_only_the_freesound_key_filled_in_works_like_make_run(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    text = EXAMPLE.read_text()
    assert re.search(r"^FREESOUND_API_KEY=$", text, flags=re.MULTILINE), (
        "the key's line should be ready to fill"
    )
    env_file.write_text(
        re.sub(r"^FREESOUND_API_KEY=$", "FREESOUND_API_KEY=my-own-key", text, flags=re.MULTILINE)
    )
    var_dir = tmp_path / "var"

    migrated = _run(env_file, "migrate", "--noinput", var_dir=var_dir)
    assert migrated.returncode == 0, migrated.stderr
    checked = _run(env_file, "check", var_dir=var_dir)
    assert checked.returncode == 0, checked.stderr

    loaded = _settings(env_file, var_dir)
    assert loaded["FREESOUND_API_KEY"] == "my-own-key"
    assert loaded["DEBUG"] == "True"
    assert loaded["CELERY_BROKER_URL"] == "filesystem://"
    assert str(var_dir / "db.sqlite3") in loaded["DATABASES"]
    assert (var_dir / "db.sqlite3").is_file()
    assert loaded["DEMO_MODE"] == "False"


def test_production_values_are_shown_commented_out() -> None:
    text = EXAMPLE.read_text()
    shown = set(re.findall(r"^# Production: ([A-Z_]+)=", text, flags=re.MULTILINE))

    assert {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"} <= shown
    active = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    assert active == {"FREESOUND_API_KEY", "SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET"}
