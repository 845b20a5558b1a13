"""`python -m demo` (what `make demo` runs): prepare the demo's own database and serve everything.

Migrate the demo database under var/demo, collect static files, create the demo accounts, then hand
over to honcho with Procfile.demo: the site, a Celery worker with beat, and the demo providers.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from . import config


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=config.BASE_DIR, env=env, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve Seven/Four against the built-in demo providers.")
    parser.add_argument("--var-dir", type=Path, default=config.default_var_dir())
    args = parser.parse_args()
    _check_renderer()
    var_dir = args.var_dir.resolve()
    var_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **config.environment(var_dir)}
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"

    manage("migrate", "--noinput", "--verbosity", "0", env=env)
    manage("collectstatic", "--noinput", "--verbosity", "0", env=env)
    print()
    print(f"  Seven/Four demo mode is starting on http://{config.HOST}:{config.WEB_PORT}/")
    print(f"  Its data lives in {var_dir} (delete the folder to start afresh); `make run` data is untouched.")
    print("  Sign in with:")
    sys.stdout.flush()
    manage("demo_setup", env=env)
    print("  Try the catalog: search for " + ", ".join(f"“{n}”" for n in config.ARTIST_NAMES) + ".")
    print()
    sys.stdout.flush()
    honcho = [sys.executable, "-m", "honcho", "start", "-f", str(config.BASE_DIR / "Procfile.demo")]
    os.chdir(config.BASE_DIR)
    os.execvpe(honcho[0], honcho, env)


def _check_renderer() -> None:
    """The demo's music is rendered at first start: say what to install before anything starts."""
    from corpus.render import RenderError, fluidsynth_binary, soundfont_path

    try:
        fluidsynth_binary()
        soundfont_path()
    except RenderError as exc:
        sys.exit(f"make demo: {exc}\nOn Debian or Ubuntu: sudo apt-get install fluidsynth fluid-soundfont-gm")


if __name__ == "__main__":
    main()
