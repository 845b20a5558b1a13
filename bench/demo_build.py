"""How long `make demo` takes to have its providers answering and its audio rendered.

    .venv/bin/python bench/demo_build.py [--size 1.0]

Each figure comes from a fresh temporary var folder. "providers answering" is the time from nothing
to both demo servers listening with the full catalog and library loaded (the site can be used from
then on: a preview not yet rendered is rendered when first asked for). The full render is timed
twice in the same run: in one process (the baseline) and spread over every CPU core (what
`make demo` does), so the two are comparable even on a busy machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from demo import config  # noqa: E402
from demo.build import build  # noqa: E402
from demo.content import catalog, library  # noqa: E402
from demo.providers import start  # noqa: E402


def _providers_answering(size: float) -> float:
    catalog.cache_clear()  # describe the content from scratch, as a fresh process does
    library.cache_clear()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        deezer, freesound = start(Path(tmp), config.Ports(web=0, deezer=0, freesound=0), size)
        elapsed = time.perf_counter() - started
        deezer.stop()
        freesound.stop()
    return elapsed


def _render(size: float, workers: int) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as tmp:
        report = build(Path(tmp), size=size, workers=workers)
    return report.elapsed, report.summary()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=1.0)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    tracks, sounds = len(catalog(args.size).tracks), len(library(args.size))
    print(f"demo content: {tracks} catalog previews, {sounds} library sounds; {cores} CPU cores")
    print(f"load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"providers answering (content described, nothing rendered): {_providers_answering(args.size):6.2f} s"
    )
    serial, _ = _render(args.size, workers=1)
    parallel, summary = _render(args.size, workers=cores)
    print(f"full render, 1 process (baseline):  {serial:6.1f} s")
    print(f"full render, {cores} processes (make demo): {parallel:6.1f} s  ({serial / parallel:.2f}x)")
    print(summary)


if __name__ == "__main__":
    main()
