"""The musicnn taggers served from an ONNX export, without TensorFlow in the process.

A runtime is named "<engine>:<precision>":

- "onnxruntime:fp32", "onnxruntime:int8" (ONNX Runtime's CPU provider);
- "openvino:fp32", "openvino:bf16" (bfloat16 where the CPU has it), "openvino:int8" (the int8 export,
  the rest in bfloat16);
- "tensorflow" (the reference, `worker.backbone.musicnn.Backbone`; imports TensorFlow).

`bench/inference.py` measures them side by side; DEFAULT_RUNTIME is the fastest that held parity there
(figures in docs/performance.md). The ONNX files are exported on first use from the weights in the
installed musicnn wheel, by a child process (`python -m worker.backbone.onnx_export`) so that TensorFlow never
enters a serving process, and cached under SEVENFOUR_MODEL_CACHE (default VAR_DIR/models, else
var/models beside the code), named by a hash of the weights and of the exporter's versions: new weights
or a new exporter give a new file, never a stale one. No weights are committed.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
from functools import cache
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from worker.backbone.musicnn import MODELS, BackboneOutput
from worker.model_cache import REPO_ROOT, cache_dir

DEFAULT_RUNTIME = "onnxruntime:fp32"
RUNTIME_ENV = "SEVENFOUR_MODEL_RUNTIME"
THREADS_ENV = "SEVENFOUR_MODEL_THREADS"  # threads per process; 0 or unset: the runtime's default
BATCH_ENV = "SEVENFOUR_MODEL_BATCH"
# Patches per run. Measured (docs/performance.md): 5 costs the same CPU time as 10 (a whole 30 s clip)
# and about 190 MiB less memory; the convolutions are large enough to keep the cores busy either way.
DEFAULT_BATCH = 5
RUNTIMES = (
    "onnxruntime:fp32",
    "onnxruntime:int8",
    "openvino:fp32",
    "openvino:bf16",
    "openvino:int8",
    "tensorflow",
)
# Bump when worker.backbone.onnx_export or worker.backbone.musicnn.forward changes what an export contains.
EXPORT_FORMAT = "musicnn-onnx-5"
EXPORT_TIMEOUT_S = 900


class BackboneLike(Protocol):
    runtime: str

    def patch_outputs(self, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...

    def __call__(self, patches: np.ndarray) -> BackboneOutput: ...


@cache
def weights_digest() -> str:
    """SHA-256 of the checkpoint files of both taggers in the installed wheel."""
    digest = hashlib.sha256()
    for model in MODELS:
        folder = Path(str(files("musicnn"))) / model
        for name in (".data-00000-of-00001", ".index"):
            digest.update((folder / name).read_bytes())
    return digest.hexdigest()


def export_key(variant: str) -> str:
    """What an export depends on: the weights, this format, the exporter and (int8) the quantizer."""
    parts = [EXPORT_FORMAT, variant, weights_digest(), f"tf2onnx {version('tf2onnx')}"]
    parts.append(f"tensorflow {version('tensorflow-cpu')}")
    if variant == "int8":
        parts.append(f"onnxruntime {version('onnxruntime')}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def onnx_path(variant: str) -> Path:
    return cache_dir() / f"musicnn-{variant}-{export_key(variant)}.onnx"


def ensure_onnx(variant: str) -> Path:
    """The cached export, made first if missing (in a child process: TensorFlow stays out of this one).

    A lock file keeps two worker processes starting together from exporting twice.
    """
    path = onnx_path(variant)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            command = [
                sys.executable,
                "-m",
                "worker.backbone.onnx_export",
                "--variant",
                variant,
                "--out",
                str(path),
            ]
            paths = [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
            done = subprocess.run(
                command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=EXPORT_TIMEOUT_S
            )
            if done.returncode != 0 or not path.exists():
                raise RuntimeError(f"exporting musicnn to ONNX ({variant}) failed:\n{done.stderr[-3000:]}")
    return path


def _threads() -> int:
    return int(os.environ.get(THREADS_ENV, "0") or 0)


class _OnnxBackbone:
    """Both taggers in one ONNX graph: per-patch outputs, averaged per clip as musicnn does."""

    runtime: str

    def _run(self, patches: np.ndarray) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def patch_outputs(self, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        patches = np.ascontiguousarray(patches, dtype=np.float32)
        step = max(1, int(os.environ.get(BATCH_ENV) or DEFAULT_BATCH))
        runs = [self._run(patches[i : i + step]) for i in range(0, len(patches), step)]
        out = {name: np.concatenate([run[name] for run in runs]) for name in runs[0]}
        return out["msd"], out["mtt"], np.concatenate([out["msd_pen"], out["mtt_pen"]], axis=1)

    def __call__(self, patches: np.ndarray) -> BackboneOutput:
        msd, mtt, emb = self.patch_outputs(patches)
        return BackboneOutput(msd.mean(axis=0), mtt.mean(axis=0), emb.mean(axis=0), emb)


class OnnxRuntimeBackbone(_OnnxBackbone):
    def __init__(self, precision: str = "fp32") -> None:
        import onnxruntime as ort

        self.runtime = f"onnxruntime:{precision}"
        options = ort.SessionOptions()
        options.intra_op_num_threads = _threads()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle threads would spin for a while after each run, taking the cores from the other worker
        # processes of the host.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(ensure_onnx(precision)), options, providers=["CPUExecutionProvider"]
        )
        self._names = [out.name for out in self._session.get_outputs()]

    def _run(self, patches: np.ndarray) -> dict[str, np.ndarray]:
        return dict(zip(self._names, self._session.run(self._names, {"patches": patches}), strict=True))


class OpenVinoBackbone(_OnnxBackbone):
    def __init__(self, precision: str = "bf16") -> None:
        import openvino as ov

        self.runtime = f"openvino:{precision}"
        config: dict[str, Any] = {
            # int8: the quantized timbral convolutions, everything else in bfloat16.
            "INFERENCE_PRECISION_HINT": "f32" if precision == "fp32" else "bf16",
            "PERFORMANCE_HINT": "LATENCY",
        }
        if threads := _threads():
            config["INFERENCE_NUM_THREADS"] = threads
        variant = "int8" if precision == "int8" else "fp32"
        compiled = ov.Core().compile_model(str(ensure_onnx(variant)), "CPU", config)
        self._names = {out: out.get_any_name() for out in compiled.outputs}
        self._request = compiled.create_infer_request()

    def _run(self, patches: np.ndarray) -> dict[str, np.ndarray]:
        results = self._request.infer({"patches": patches})
        return {name: np.array(results[out]) for out, name in self._names.items()}


def make_backbone(runtime: str) -> BackboneLike:
    """A backbone for a runtime name (see RUNTIMES)."""
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown model runtime {runtime!r}; expected one of {', '.join(RUNTIMES)}")
    if runtime == "tensorflow":
        from worker.backbone.musicnn import Backbone

        return Backbone(os.environ.get("SEVENFOUR_MODEL_PRECISION", "float32"))
    engine, precision = runtime.split(":")
    return OnnxRuntimeBackbone(precision) if engine == "onnxruntime" else OpenVinoBackbone(precision)


def configured_runtime() -> str:
    return os.environ.get(RUNTIME_ENV) or DEFAULT_RUNTIME


def get_backbone(runtime: str | None = None) -> BackboneLike:
    """The musicnn taggers, built once per process and runtime on first use.

    None: SEVENFOUR_MODEL_RUNTIME, else DEFAULT_RUNTIME. "tensorflow" is the reference
    implementation (SEVENFOUR_MODEL_PRECISION=bfloat16 runs its convolutions in bfloat16).
    """
    return _backbone(runtime or configured_runtime())


@cache
def _backbone(runtime: str) -> BackboneLike:
    return make_backbone(runtime)


def main() -> None:
    """`python -m worker.backbone.serving`: make the export the configured runtime needs (a build step)."""
    runtime = configured_runtime()
    if runtime == "tensorflow":
        print("SEVENFOUR_MODEL_RUNTIME=tensorflow needs no export")
        return
    print(ensure_onnx("int8" if runtime.endswith(":int8") else "fp32"))


if __name__ == "__main__":
    main()
