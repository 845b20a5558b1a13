"""`python -m sevenfour_site.supervise COMMAND...`: run a command, and start it again when it exits.

honcho (`make run`, `make demo`, the Procfile) does not restart a process that exits: a Celery
worker that died (a crash, the kernel's OOM killer) would leave the site without it until someone
noticed. This runs the worker as a child and starts it again, waiting 1 s, then twice as long after
each quick exit, up to 30 s; a child that ran for a minute counts as healthy, and the wait starts
from 1 s again.

SIGTERM and SIGINT are passed on to the child (Celery's warm shutdown: running jobs finish), and
then this exits with the child's status instead of restarting it. In production, the container
runtime or systemd restarts the worker instead (README.md, "Keeping the workers up").
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from types import FrameType

FIRST_WAIT_S = 1.0
MAX_WAIT_S = 30.0
HEALTHY_AFTER_S = 60.0


def next_wait(previous: float, ran_for: float) -> float:
    """Seconds to wait before the next start: back to the first wait after a healthy run."""
    if ran_for >= HEALTHY_AFTER_S:
        return FIRST_WAIT_S
    return min(MAX_WAIT_S, previous * 2) if previous else FIRST_WAIT_S


class Supervisor:
    def __init__(
        self,
        command: Sequence[str],
        *,
        clock: Callable[[], float] = time.monotonic,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.command = list(command)
        self.clock = clock
        self.log = log or (lambda line: print(f"supervise: {line}", file=sys.stderr, flush=True))
        self.child: subprocess.Popen[bytes] | None = None
        self.stopping = False

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signum)

    def run(self) -> int:
        wait = 0.0
        while True:
            started = self.clock()
            # A session of its own: a signal to this process's group (honcho stops its processes
            # with killpg) reaches the child once, forwarded by on_signal, not twice (Celery takes
            # a second SIGINT as "stop now, abandon the running jobs").
            self.child = subprocess.Popen(self.command, start_new_session=True)
            code = self.child.wait()
            if self.stopping:
                return code
            ran_for = self.clock() - started
            wait = next_wait(wait, ran_for)
            self.log(
                f"{self.command[0]} exited with {code} after {ran_for:.0f} s; starting it again in {wait:.0f} s"
            )
            deadline = self.clock() + wait
            while not self.stopping and self.clock() < deadline:
                time.sleep(0.1)
            if self.stopping:
                return code


def main(argv: Sequence[str] | None = None) -> int:
    command = list(sys.argv[1:] if argv is None else argv)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        print("usage: python -m sevenfour_site.supervise COMMAND [ARG...]", file=sys.stderr)
        return 2
    supervisor = Supervisor(command)
    signal.signal(signal.SIGTERM, supervisor.on_signal)
    signal.signal(signal.SIGINT, supervisor.on_signal)
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
