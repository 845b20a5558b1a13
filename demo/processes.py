"""Run the demo's processes (Procfile.demo) side by side, their output interleaved with each one's
name in front, and stop them all cleanly on Ctrl-C.

honcho did this before, but it stops a process by signalling its whole process group: the Celery
worker's pool child was killed under its parent, which logged an ERROR and started a new child (that
loaded the model again), and `make demo` ended with `make: *** Error 130`. Here the Celery worker's
own pid gets SIGTERM, so that its warm shutdown stops its children itself; the other processes get
it with their whole group (the providers' render pool), as before.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

# How long the processes get to stop by themselves (a job the worker is running included).
STOP_SECONDS = 30.0
# How long a process group's leftovers get after SIGTERM before SIGKILL.
LEFTOVER_SECONDS = 3.0


@dataclass(frozen=True)
class Entry:
    name: str
    command: str

    @property
    def stops_its_children(self) -> bool:
        """Celery does (warm shutdown), and so does the supervisor that passes signals on to it
        (sevenfour_site.supervise): SIGTERM goes to its pid alone, not to its pool child too."""
        return self.command.startswith(("celery ", "python -m sevenfour_site.supervise celery "))


def read_procfile(path: Path) -> list[Entry]:
    """`name: command` lines; blank lines and # comments are skipped."""
    entries = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, command = line.partition(":")
            entries.append(Entry(name.strip(), command.strip()))
    return entries


class Supervisor:
    """Start the entries in sessions of their own (a terminal's Ctrl-C reaches only this process),
    print their lines, and stop them all when asked or as soon as one of them stops."""

    def __init__(
        self,
        entries: Sequence[Entry],
        *,
        env: Mapping[str, str],
        cwd: Path,
        out: IO[str] = sys.stdout,
        on_line: Callable[[str, str], None] | None = None,
    ) -> None:
        self.entries = list(entries)
        self.env = dict(env)
        self.cwd = cwd
        self.out = out
        self.on_line = on_line
        self.width = max((len(entry.name) for entry in self.entries), default=0)
        self.procs: dict[str, subprocess.Popen[str]] = {}
        self._lock = threading.Lock()
        self._readers: list[threading.Thread] = []
        self._stop = threading.Event()

    def say(self, name: str, text: str) -> None:
        with self._lock:
            self.out.write(f"{time.strftime('%H:%M:%S')} {name:<{self.width}} | {text}\n")
            self.out.flush()

    def start(self) -> None:
        for entry in self.entries:
            # `exec`: the shell expands $VARIABLES, then the command takes its pid.
            proc = subprocess.Popen(
                ["/bin/sh", "-c", f"exec {entry.command}"],
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                bufsize=1,
                start_new_session=True,
            )
            self.procs[entry.name] = proc
            reader = threading.Thread(target=self._relay, args=(entry.name, proc), daemon=True)
            reader.start()
            self._readers.append(reader)

    def _relay(self, name: str, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            self.say(name, line)
            if self.on_line is not None:
                self.on_line(name, line)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def request_stop(self) -> None:
        """Safe to call from a signal handler: the loop in run() does the stopping."""
        self._stop.set()

    def run(self) -> int:
        """Serve until request_stop() (0) or until a process stops by itself (1); all are stopped."""
        self.start()
        while not self._stop.wait(0.2):
            exited = [(name, proc.returncode) for name, proc in self.procs.items() if proc.poll() is not None]
            if exited:
                for name, code in exited:
                    self.say("demo", f"{name} stopped by itself (exit code {code}); stopping the others")
                self.stop()
                return 1
        self.stop()
        return 0

    def stop(self) -> None:
        running = {name: proc for name, proc in self.procs.items() if proc.poll() is None}
        entries = {entry.name: entry for entry in self.entries}
        for name, proc in running.items():
            _signal(proc.pid, signal.SIGTERM, group=not entries[name].stops_its_children)
        deadline = time.monotonic() + STOP_SECONDS
        for name, proc in running.items():
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                self.say("demo", f"{name} did not stop within {STOP_SECONDS:.0f} s: killing it")
                _signal(proc.pid, signal.SIGKILL, group=True)
                proc.wait()
        for proc in self.procs.values():  # what a process left behind in its group
            _signal(proc.pid, signal.SIGTERM, group=True)
        time.sleep(LEFTOVER_SECONDS if any(_group_alive(p.pid) for p in self.procs.values()) else 0)
        for proc in self.procs.values():
            _signal(proc.pid, signal.SIGKILL, group=True)
        for reader in self._readers:
            reader.join(timeout=2)


def _signal(pid: int, signum: int, *, group: bool) -> None:
    try:
        if group:
            os.killpg(pid, signum)
        else:
            os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass  # already gone


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True
