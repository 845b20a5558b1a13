"""sevenfour_site.supervise: a worker that exits is started again; a stop signal stops it for good."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sevenfour_site.supervise import FIRST_WAIT_S, HEALTHY_AFTER_S, MAX_WAIT_S, next_wait
from tests.conftest import ROOT, wait_until


@pytest.mark.parametrize(
    ("previous", "ran_for", "expected"),
    [
        (0.0, 0.1, FIRST_WAIT_S),  # the first restart
        (1.0, 0.1, 2.0),  # a quick exit again: twice as long
        (16.0, 0.1, MAX_WAIT_S),  # never longer than the cap
        (MAX_WAIT_S, HEALTHY_AFTER_S, FIRST_WAIT_S),  # it ran well for a while: start over
    ],
)
def test_the_wait_doubles_after_quick_exits_and_starts_over_after_a_healthy_run(previous, ran_for, expected):
    assert next_wait(previous, ran_for) == expected


def supervised(tmp_path: Path, script: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sevenfour_site.supervise", sys.executable, "-c", script],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "supervise.log").open("wb"),
        start_new_session=True,  # a group of its own, as honcho starts each process
    )


def test_a_child_that_exits_is_started_again(tmp_path):
    starts = tmp_path / "starts"
    # Each start appends a line and exits at once, as a crashing worker would.
    proc = supervised(tmp_path, f"open({str(starts)!r}, 'a').write('x\\n'); raise SystemExit(1)")
    try:
        assert wait_until(lambda: starts.exists() and len(starts.read_text().split()) >= 2, timeout=20)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    assert "exited with 1" in (tmp_path / "supervise.log").read_text()


def test_a_stop_reaches_the_child_once_and_nothing_is_started_again(tmp_path):
    marks = tmp_path / "marks"
    # The child records every SIGTERM it gets and exits on the first, like Celery's warm shutdown.
    script = (
        "import signal, sys, time\n"
        f"def stop(*a):\n    open({str(marks)!r}, 'a').write('term\\n'); sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        f"open({str(marks)!r}, 'a').write('start\\n')\n"
        "time.sleep(60)\n"
    )
    proc = supervised(tmp_path, script)
    assert wait_until(lambda: marks.exists() and "start" in marks.read_text(), timeout=20)

    os.killpg(proc.pid, signal.SIGTERM)  # what honcho does to stop a process
    assert proc.wait(timeout=10) == 0
    time.sleep(FIRST_WAIT_S + 0.5)

    assert marks.read_text().split() == ["start", "term"]
