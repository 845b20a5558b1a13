"""`make demo`'s processes (demo.processes, demo.__main__.serve): each says what it prints under its
name, and Ctrl-C stops them all cleanly and exits 0 (issue 26.8: it printed the Celery worker's
"ERROR ... exited with signal 15" and `make: *** Error 130`)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from demo import config
from demo.processes import Entry, read_procfile
from tests.conftest import ROOT, wait_until

SLEEPER = f"{sys.executable} -c 'import time; print(\"up\", flush=True); time.sleep(600)'"


def test_the_demo_procfile_runs_the_site_the_worker_and_the_providers():
    entries = {entry.name: entry for entry in read_procfile(ROOT / "Procfile.demo")}

    assert set(entries) == {"web", "worker", "providers"}
    assert entries["worker"].stops_its_children  # SIGTERM to the worker alone: Celery stops its pool
    assert not entries["web"].stops_its_children
    assert Entry("x", "python -m demo.providers").stops_its_children is False


def _launch(tmp_path: Path, procfile: Path) -> subprocess.Popen[str]:
    env = {**os.environ, **config.environment(tmp_path)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from demo.__main__ import serve
        import os
        sys.exit(serve(dict(os.environ), Path({str(procfile)!r})))
        """
    )
    return subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _lines_until(proc: subprocess.Popen[str], wanted: str, timeout: float) -> list[str]:
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), False)
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not any(wanted in line for line in lines):
        lines.extend(line for line in iter(proc.stdout.readline, ""))
        time.sleep(0.1)
    return lines


@pytest.mark.django_db(transaction=True)
def test_ctrl_c_stops_the_worker_without_an_error_and_exits_0(tmp_path):
    """The real worker line of Procfile.demo (on the demo's embedded broker) beside a plain process."""
    worker_line = next(e.command for e in read_procfile(ROOT / "Procfile.demo") if e.name == "worker")
    procfile = tmp_path / "Procfile"
    procfile.write_text(f"worker: {worker_line}\nsleeper: {SLEEPER}\n")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env={**os.environ, **config.environment(tmp_path)},
        check=True,
        timeout=240,
    )
    proc = _launch(tmp_path, procfile)
    try:
        before = _lines_until(proc, "model ready", timeout=240)
        assert any("model ready" in line for line in before), "".join(before)

        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends to the launcher in the terminal
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = "".join(before) + (proc.stdout.read() if proc.stdout else "")

    assert code == 0, output
    assert "ERROR" not in output
    assert "Traceback" not in output
    assert "worker  | " in output
    assert "sleeper | up" in output
    assert re.search(r"demo +\| model ready \d+ s after the start: songs are analysed now", output)
    assert re.search(r"demo +\| stopping: the worker finishes the job it is running", output)
    assert "demo: stopped" in output
    assert wait_until(lambda: not any(_worker_processes(tmp_path)), timeout=10)


def _worker_processes(var_dir: Path) -> list[int]:
    """Processes still running with this test's var folder on their command line."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if str(var_dir) in command:
                found.append(int(entry.name))
    return found


def test_a_process_that_stops_by_itself_stops_the_others_and_says_so(tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text(f"sleeper: {SLEEPER}\nbroken: {sys.executable} -c 'raise SystemExit(3)'\n")

    proc = _launch(tmp_path, procfile)
    output, _ = proc.communicate(timeout=60)

    assert proc.returncode == 1
    assert "broken stopped by itself (exit code 3); stopping the others" in output
    assert "demo: stopped after an error" in output
