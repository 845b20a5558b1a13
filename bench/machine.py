"""What the host can do, and what the backbone needs: so that bench figures from different machines say
which part is the machine's limit and which part is waste.

- `gemm_gflops()`: fp32 matrix-multiply throughput of one core (numpy's BLAS in one thread), measured
  in CPU time so that other load on the machine does not lower it much; ~0.5-1 s.
- `cpu_flags()`: the vector extensions that decide what the runtimes can use (read from /proc/cpuinfo).
- `backbone_macs()`: multiply-accumulates per 3 s patch of the served taggers, counted by
  bench/taggers_cost.py from the checkpoints (that needs TensorFlow, ~10 s, so it runs in a child
  process once and the number is cached beside the ONNX exports).
- the arithmetic: the floor (time the MACs take at a given throughput), the achieved throughput and
  the ceiling in clips/s. One MAC is two floating-point operations.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# avx512f: AVX-512 at all; avx512_vnni / amx_int8: fast int8 dot products; avx512_bf16 / amx_bf16: bf16.
FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8")


def cpu_name() -> str:
    for line in _cpuinfo().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    import platform

    return platform.processor() or "unknown CPU"


def cpu_flags(cpuinfo: str | None = None) -> dict[str, bool] | None:
    """Which of FLAGS the CPU has (the first core's "flags" line); None when unknown (not Linux)."""
    text = _cpuinfo() if cpuinfo is None else cpuinfo
    for line in text.splitlines():
        if line.startswith("flags"):
            present = set(line.split(":", 1)[1].split())
            return {flag: flag in present for flag in FLAGS}
    return None


def describe_flags(flags: dict[str, bool] | None) -> str:
    if flags is None:
        return "CPU flags unknown (no /proc/cpuinfo)"
    return "CPU flags: " + ", ".join(flag if has else f"no {flag}" for flag, has in flags.items())


def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def gemm_gflops(size: int = 1024, runs: int = 5, per_run: int = 3) -> float:
    """fp32 GFLOP per CPU-second of a square matmul in one BLAS thread: the median of `runs` runs of
    `per_run` products, after one to warm up. CPU time, not wall time, so that a busy machine (which
    takes the core away now and then) changes it little; the model's GFLOP per CPU-second compares
    with it directly."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size), dtype=np.float32) for _ in range(2))
    out = np.empty_like(a)
    seconds = []
    with threadpool_limits(limits=1, user_api="blas"):
        np.matmul(a, b, out=out)
        for _ in range(runs):
            start = time.process_time()
            for _ in range(per_run):
                np.matmul(a, b, out=out)
            seconds.append(time.process_time() - start)
    return 2 * size**3 * per_run / float(np.median(seconds)) / 1e9


def backbone_macs() -> int:
    """MACs per 3 s patch of both served taggers; counted once per weights and counting code, cached."""
    from worker.backbone.serving import cache_dir, weights_digest

    counter = ROOT / "bench" / "taggers_cost.py"
    key = hashlib.sha256(weights_digest().encode() + counter.read_bytes()).hexdigest()[:16]
    cached = cache_dir() / f"backbone-macs-{key}.json"
    if cached.exists():
        return int(json.loads(cached.read_text())["macs_per_patch"])
    macs = _count_backbone_macs()
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps({"macs_per_patch": macs}))
    return macs


def _count_backbone_macs() -> int:
    """bench/taggers_cost.py's count, in a child process: TensorFlow stays out of the bench's."""
    done = subprocess.run(
        [sys.executable, "-c", "from bench.taggers_cost import served_macs; print(served_macs())"],
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},  # -c puts cwd (ROOT) on sys.path
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.split()[-1])


@dataclass(frozen=True)
class Capacity:
    """Measured once per bench run, in its parent, before any runtime starts."""

    gflops: float  # fp32 GFLOP per CPU-second, one core
    cores: int
    flags: dict[str, bool] | None
    macs_per_patch: int  # both served taggers

    def describe(self) -> str:
        return (
            f"capacity: fp32 GEMM {self.gflops:.1f} GFLOP/s per core (numpy, one thread, per CPU-second),"
            f" {self.gflops * self.cores:.0f} on {self.cores} cores; {describe_flags(self.flags)}"
        )

    def describe_backbone(self) -> str:
        per_clip = ", ".join(f"{n * self.macs_per_patch / 1e9:.1f} GMACs per clip of {n}" for n in (5, 10))
        return f"backbone: {self.macs_per_patch / 1e6:.0f} MMACs per 3 s patch (both taggers); {per_clip}"


def measure() -> Capacity:
    """The backbone's MACs (cached after the first run), the CPU flags, then the GEMM probe."""
    macs = backbone_macs()
    return Capacity(gemm_gflops(), os.cpu_count() or 1, cpu_flags(), macs)


def floor_ms(macs: float, gflops: float, cores: int = 1) -> float:
    """The least time `macs` can take at `gflops` per core on `cores` cores, in ms."""
    return 2 * macs / (gflops * 1e9 * cores) * 1000


def achieved_gflops(macs: float, cpu_s: float) -> float:
    """GFLOP per CPU-second actually reached by running `macs` in `cpu_s` CPU-seconds."""
    return 2 * macs / cpu_s / 1e9


def efficiency(macs: float, cpu_s: float, gflops: float) -> float:
    """The share of the probe's throughput that running `macs` in `cpu_s` CPU-seconds reached."""
    return achieved_gflops(macs, cpu_s) / gflops


def ceiling_clips_per_s(cores: int, gflops: float, macs_per_clip: float) -> float:
    """Clips per second the cores could give if they did nothing but the model's arithmetic."""
    return cores * gflops * 1e9 / (2 * macs_per_clip)
