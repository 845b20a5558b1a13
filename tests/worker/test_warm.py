"""worker.warm: the install step that compiles librosa's numba functions before any worker starts."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from worker import warm

ROOT = Path(__file__).resolve().parents[2]


def test_warm_runs_the_analysis_once_and_says_so(capsys) -> None:
    warm.main()
    assert "compiled and cached" in capsys.readouterr().out


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_install_runs_the_warm_step() -> None:
    # -n prints the commands without running them; -B treats every target as out of date.
    plan = subprocess.run(
        ["make", "-n", "-B", ".venv/.installed"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    lines = plan.splitlines()
    warm_line = next(i for i, line in enumerate(lines) if "-m worker.warm" in line)
    install_line = next(i for i, line in enumerate(lines) if "pip install --quiet ." in line)
    assert install_line < warm_line  # compiled against the librosa that was just installed
