"""`python -m demo` (what `make demo` runs): prepare the demo's own database and serve everything.

Migrate the demo database under var/demo, collect static files, create the demo accounts, then run
Procfile.demo's processes (demo.processes): the site, a Celery worker with beat, and the demo
providers. Each step says on one line what it does and roughly how long it takes; Ctrl-C stops
everything and exits 0.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from . import config
from .processes import Supervisor, read_procfile

MODEL_READY = "model ready"
PROCFILE = config.BASE_DIR / "Procfile.demo"


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

    step(f"preparing the demo database in {var_dir} (a few seconds; longer the first time)")
    manage("migrate", "--noinput", "--verbosity", "0", env=env)
    step("collecting the static files (a few seconds)")
    manage("collectstatic", "--noinput", "--verbosity", "0", env=env)
    print()
    print(f"  Seven/Four demo mode is starting on http://{config.HOST}:{config.WEB_PORT}/")
    print(f"  Its data lives in {var_dir} (delete the folder to start afresh); `make run` data is untouched.")
    print("  Sign in with:")
    sys.stdout.flush()
    manage("demo_setup", env=env)
    print("  Try the catalog: search for " + ", ".join(f"“{n}”" for n in config.ARTIST_NAMES) + ".")
    print()
    step("starting the site, the worker and the demo providers (Ctrl-C stops them all)")
    step(
        "the worker loads the genre model, up to a minute the first time: it logs "
        f"“{MODEL_READY}” when it can take jobs; a song submitted before then waits for it"
    )
    sys.exit(serve(env))


def step(text: str) -> None:
    print(f"demo: {text}", flush=True)


def serve(env: dict[str, str], procfile: Path = PROCFILE) -> int:
    """Run Procfile.demo until Ctrl-C (0) or until a process stops by itself (1)."""
    started = time.monotonic()
    announced = False

    def watch(name: str, line: str) -> None:
        nonlocal announced
        if name == "worker" and MODEL_READY in line and not announced:
            announced = True
            supervisor.say(
                "demo",
                f"{MODEL_READY} {time.monotonic() - started:.0f} s after the start: songs are analysed now",
            )

    entries = read_procfile(procfile)
    supervisor = Supervisor(entries, env=env, cwd=config.BASE_DIR, on_line=watch)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if supervisor.stopping:
            return
        supervisor.say("demo", "stopping: the worker finishes the job it is running, if any (up to 30 s)")
        supervisor.request_stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    code = supervisor.run()
    step("stopped" if code == 0 else "stopped after an error (see above)")
    return code


def _check_renderer() -> None:
    """The demo's music is rendered at first start: say what to install before anything starts."""
    from corpus.render import RenderError, fluidsynth_binary, soundfont_path

    try:
        fluidsynth_binary()
        soundfont_path()
    except RenderError as exc:
        sys.exit(f"make demo: {exc}\nOn Debian or Ubuntu: sudo apt-get install fluidsynth fluid-soundfont-gm")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C before the processes started (serve() handles it after)
        print("\ndemo: stopped", flush=True)
