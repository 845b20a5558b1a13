"""What the benches say about the machine: the arithmetic (floor, achieved throughput, ceiling) checked
against numbers worked out by hand, the CPU flags read from a sample /proc/cpuinfo, and that the GEMM
probe measures something. No speed is asserted: it depends on the machine."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench import machine

# Abridged from an AVX2-only AMD EPYC and an AVX-512 Intel Xeon with AMX.
EPYC = """processor\t: 0
model name\t: AMD EPYC 7B13
flags\t\t: fpu sse sse2 avx fma avx2 bmi2 sha_ni
"""
XEON = """processor\t: 0
model name\t: Intel(R) Xeon(R) Platinum 8481C
flags\t\t: fpu avx avx2 fma avx512f avx512bw avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8

processor\t: 1
flags\t\t: fpu
"""


def test_the_floor_is_the_flops_over_the_throughput() -> None:
    # 14e9 MACs = 28e9 FLOP; at 70 GFLOP/s: 0.4 s on one core, 0.2 s on two.
    assert machine.floor_ms(14e9, 70.0) == pytest.approx(400.0)
    assert machine.floor_ms(14e9, 70.0, cores=2) == pytest.approx(200.0)


def test_achieved_throughput_and_efficiency_count_two_flops_per_mac() -> None:
    # 2.8e9 MACs per patch in 0.16 CPU-s: 5.6e9 FLOP / 0.16 s = 35 GFLOP/s, half of a 70 GFLOP/s core.
    assert machine.achieved_gflops(2.8e9, 0.16) == pytest.approx(35.0)
    assert machine.efficiency(2.8e9, 0.16, 70.0) == pytest.approx(0.5)


def test_the_ceiling_is_the_cores_throughput_over_a_clips_flops() -> None:
    # 2 cores x 70 GFLOP/s = 140 GFLOP/s; a clip of 14e9 MACs is 28 GFLOP: 5 clips/s.
    assert machine.ceiling_clips_per_s(2, 70.0, 14e9) == pytest.approx(5.0)
    # the floor and the ceiling agree: one clip's floor on those cores is 1/5 s
    assert machine.floor_ms(14e9, 70.0, cores=2) == pytest.approx(1000 / 5.0)


def test_cpu_flags_read_the_first_flags_line() -> None:
    epyc = machine.cpu_flags(EPYC)
    assert epyc is not None
    assert [flag for flag, has in epyc.items() if has] == ["avx2", "fma"]
    assert set(epyc) == set(machine.FLAGS)
    xeon = machine.cpu_flags(XEON)
    assert xeon is not None
    assert all(xeon.values())  # from core 0's line, not core 1's


def test_cpu_flags_are_unknown_without_cpuinfo() -> None:
    assert machine.cpu_flags("") is None
    assert machine.describe_flags(None) == "CPU flags unknown (no /proc/cpuinfo)"
    assert machine.describe_flags({"avx2": True, "avx512f": False}) == "CPU flags: avx2, no avx512f"


def test_the_gemm_probe_measures_a_positive_finite_throughput() -> None:
    gflops = machine.gemm_gflops(size=128, runs=3, per_run=2)
    assert math.isfinite(gflops)
    assert gflops > 0


def test_the_backbone_macs_come_from_the_cache_without_counting_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEVENFOUR_MODEL_CACHE", str(tmp_path))
    monkeypatch.setattr(machine, "_count_backbone_macs", lambda: 1234)

    assert machine.backbone_macs() == 1234
    (cached,) = tmp_path.glob("backbone-macs-*.json")
    assert json.loads(cached.read_text()) == {"macs_per_patch": 1234}

    monkeypatch.setattr(machine, "_count_backbone_macs", lambda: pytest.fail("counted again"))
    assert machine.backbone_macs() == 1234


def test_capacity_states_the_throughput_and_the_backbone_per_clip() -> None:
    capacity = machine.Capacity(gflops=70.0, cores=2, flags={"avx2": True}, macs_per_patch=2_800_000_000)

    assert capacity.describe().startswith("capacity: fp32 GEMM 70.0 GFLOP/s per core")
    assert "140 on 2 cores; CPU flags: avx2" in capacity.describe()
    assert "2800 MMACs per 3 s patch" in capacity.describe_backbone()
    assert "14.0 GMACs per clip of 5, 28.0 GMACs per clip of 10" in capacity.describe_backbone()
