"""worker/ is a plain analysis library: importing all of it loads no Django and no app."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import worker

APPS = ("django", "celery", "core", "accounts", "catalog", "predictions", "samples", "api", "sevenfour_site")

PROBE = """
import importlib, json, pkgutil, sys
import worker
names = [m.name for m in pkgutil.walk_packages(worker.__path__, "worker.")]
for name in names:
    importlib.import_module(name)
print(json.dumps({"modules": names, "loaded": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def test_importing_every_worker_module_loads_no_django_and_no_app() -> None:
    root = Path(worker.__file__).resolve().parent.parent
    # A fresh interpreter without DJANGO_SETTINGS_MODULE: what a CLI or notebook user gets.
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=root, env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert "worker.predictor" in report["modules"]
    assert "worker.learning.training" in report["modules"]
    assert sorted(set(APPS) & set(report["loaded"])) == []
