"""Inference benchmark: the TensorFlow reference and the serving runtimes side by side, in one run.

    .venv/bin/python bench/inference.py [-n 20] [--runtimes tensorflow,onnxruntime:fp32,...]
                                        [--threads 0] [--format mp3] [--spectrogram]

What is timed is the ML path as the site runs it: decode → genre, tempo, key, and saving the
mel-spectrogram (stage save_mel). The spectrogram PNG is drawn later by an I/O worker (the `celery`
queue), so it is not part of these figures; --spectrogram also draws it in the same process, to
show what it costs (stage spectrogram, then included in the total).

A runtime may end in @N to run N patches per model call, e.g. to compare batch sizes:
`--runtimes onnxruntime:fp32@10,onnxruntime:fp32@5,onnxruntime:fp32@2`, and in +all to read every
patch of each clip (SEVENFOUR_MODEL_EARLY_EXIT=0) instead of the site's default, half of them first and
the rest only when the top genre or the outside verdict is in doubt (worker.backbone.sequential), or in
+pN to read N patches (SEVENFOUR_MODEL_PATCHES=N, e.g. `onnxruntime:int8+p3`). `tensorflow+all` is the reference:
the reference implementation on the whole excerpt. Column "patches" is the mean number read per clip.

Each runtime runs in its own fresh process (SEVENFOUR_MODEL_RUNTIME set), started one after another:
- cold start: from starting the process to its first result (imports, model load, first prediction):
  what starting a whole host costs;
- forked cold start: how an ML worker's pool process starts (sevenfour_site/ml_worker.py). One more
  process imports the pipeline and runs `warm_up_analysis()` (librosa's numba compilation, no model),
  as the worker's main process does before forking its pool; it then forks one child per runtime,
  which loads the model with its warm-up run (as `worker_process_init` does) and answers the first
  clip. Timed from the fork to the first result, split into model load and first clip. TensorFlow is
  imported after the fork only, as it would be in a worker (the parent never imports it);
- warm: the processes then take turns, one clip each, over N clips, so that a busy machine slows them
  alike and the ratios stay meaningful; median and p95 of the total per clip and of the model part;
- peak RSS of each process at the end;
- CPU time per clip (all threads of the process, median): what a clip costs a host whatever the
  other load, so the steadiest figure on a busy machine; cores / CPU time bounds clips/s per host.
The clips are synthetic 30 s files (drums and bass, piano) written first. Ratios are against the
first runtime listed (the TensorFlow reference by default).

What the machine can do is measured in the same run (bench/machine.py): the fp32 GEMM throughput of
one core and the CPU's vector flags, in the header; then the "arithmetic floor" block at the end: the
time the backbone's multiply-accumulates take at that throughput (per clip, on one core and on the
model's cores), and each runtime's model GFLOP per CPU-second, from the backbone alone run on one
clip's patches after the warm clips, as a share of the probe. A runtime far below 100 % wastes
cycles; near it, only a faster machine or less arithmetic makes it faster.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import machine  # noqa: E402
from worker.backbone.sequential import ENV as EARLY_EXIT_ENV  # noqa: E402
from worker.backbone.sequential import PATCHES_ENV  # noqa: E402

DEFAULT_RUNTIMES = (
    "tensorflow+all",
    "onnxruntime:fp32+all",
    "onnxruntime:fp32",
    "openvino:fp32",
    "openvino:bf16",
    "onnxruntime:int8",
    "openvino:int8",
)
# Between turns, so that threads still spinning in the previous process do not slow the next one.
TURN_PAUSE_S = 0.2
# Runs of the backbone alone over one clip's patches, for its CPU time per patch (median).
MODEL_RUNS = 3
STAGES = ("decode", "features", "model", "analysis", "analysis_wait", "save_mel", "spectrogram", "total")


# --- child: one runtime in a fresh process ----------------------------------------------------


def child(work_dir: str, png: bool) -> None:
    """Read clip paths on stdin, answer one JSON line each; 'rss' answers with the peak RSS, 'model PATH'
    with the backbone's CPU seconds per patch on that clip."""
    started = time.perf_counter()
    answers, sys.stdout = sys.stdout, sys.stderr  # whatever a library prints stays off the answers
    from worker.predictor import get_predictor

    predictor = get_predictor()
    imported = time.perf_counter()
    predictor.load(warm_up=True)
    loaded = time.perf_counter()
    print(json.dumps({"import_s": imported - started, "load_s": loaded - imported}), file=answers, flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "rss":
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(json.dumps({"peak_rss_mib": peak}), file=answers)
        elif command.startswith("model "):
            print(
                json.dumps({"model_cpu_s": model_cpu_per_patch(command.removeprefix("model "))}), file=answers
            )
        else:
            stem = Path(work_dir) / Path(command).stem
            cpu = time.process_time()
            # As the ML job does: save the mel only (the I/O queue draws the PNG from it).
            result = predictor.predict(
                command, spectrogram_mel=f"{stem}.npz", spectrogram_png=f"{stem}.png" if png else None
            )
            # cpu: all threads of the process; patches: how many the model read (half, or all of them)
            timings = {**result.timings, "cpu": time.process_time() - cpu, "patches": result.patches_read}
            print(json.dumps({"timings": timings, "top": result.top_genre}), file=answers)
        answers.flush()


def model_cpu_per_patch(clip: str) -> float:
    """The backbone alone (nothing else running in this process) over all the clip's patches, in the
    runtime's batches: median CPU seconds per patch, all threads of the process."""
    from worker.audio import features
    from worker.audio.decode import load_audio
    from worker.backbone.serving import get_backbone

    audio = load_audio(clip)
    patches = features.extract(audio.samples, audio.sample_rate).patches
    backbone, seconds = get_backbone(), []
    for _ in range(MODEL_RUNS):
        cpu = time.process_time()
        backbone.patch_outputs(patches)
        seconds.append((time.process_time() - cpu) / len(patches))
    return float(np.median(seconds))


# --- child: the ML worker's main process, forking one pool process per runtime ----------------


def fork_parent(runtimes: list[str], work_dir: str, png: bool) -> None:
    """Warm the analysis as an ML worker's main process does, then for each request on stdin (JSON:
    runtime, env, clip) fork a child that loads the model and answers the clip; one JSON line each."""
    started = time.perf_counter()
    answers, sys.stdout = sys.stdout, sys.stderr
    from worker.backbone.serving import ensure_onnx
    from worker.predictor import warm_up_analysis

    for variant in export_variants(runtimes):
        ensure_onnx(variant)
    warm_up_analysis()
    print(json.dumps({"warm_s": time.perf_counter() - started}), file=answers, flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        answer = forked_cold_start(request["env"], request["clip"], work_dir, png)
        print(json.dumps(answer), file=answers, flush=True)


def forked_cold_start(env: dict[str, str], clip: str, work_dir: str, png: bool) -> dict:
    """Fork, and in the child: load the model (with the warm-up run) and predict `clip`; the child's
    seconds from the fork to loaded and from loaded to the first result. perf_counter's clock
    (CLOCK_MONOTONIC) is the same in both processes."""
    read_end, write_end = os.pipe()
    forked = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the pool process
        status = 1
        try:
            os.close(read_end)
            os.environ.update(env)
            from worker.predictor import get_predictor

            predictor = get_predictor()
            predictor.load(warm_up=True)
            loaded = time.perf_counter()
            stem = Path(work_dir) / f"fork-{Path(clip).stem}"
            predictor.predict(
                clip, spectrogram_mel=f"{stem}.npz", spectrogram_png=f"{stem}.png" if png else None
            )
            done = time.perf_counter()
            os.write(write_end, json.dumps({"load_s": loaded - forked, "first_s": done - loaded}).encode())
            status = 0
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            os._exit(status)  # no atexit handlers or buffers inherited from the parent
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        answer = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not answer:
        return {"error": f"the forked process failed (wait status {status}); see its traceback above"}
    return json.loads(answer)


# --- parent -------------------------------------------------------------------------------------


@dataclass
class Runner:
    runtime: str
    proc: subprocess.Popen
    cold_s: float = 0.0
    import_s: float = 0.0
    load_s: float = 0.0
    fork_load_s: float = 0.0  # forked cold start: fork -> model loaded (with its warm-up run)
    fork_first_s: float = 0.0  # forked cold start: model loaded -> first result
    timings: list[dict[str, float]] = field(default_factory=list)
    peak_rss_mib: float = 0.0
    model_cpu_s: float = float("nan")  # the backbone alone: CPU seconds per patch

    def ask(self, command: str) -> dict:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.runtime}: the benchmark process died")
        return json.loads(line)

    @property
    def fork_s(self) -> float:
        return self.fork_load_s + self.fork_first_s


def runtime_env(runtime: str, threads: int) -> dict[str, str]:
    """The environment that selects a runtime; it may end in @N: N patches per model run
    (SEVENFOUR_MODEL_BATCH) for the ONNX runtimes, then in +all: read every patch of a clip, or in +pN:
    read N patches of a clip (SEVENFOUR_MODEL_PATCHES)."""
    spec, every_patch = runtime.removesuffix("+all"), runtime.endswith("+all")
    spec, _, fixed = spec.partition("+p")
    name, _, batch = spec.partition("@")
    env = {"SEVENFOUR_MODEL_RUNTIME": name, EARLY_EXIT_ENV: "0" if every_patch else "1"}
    if fixed:
        env[PATCHES_ENV] = fixed
    if batch:
        env["SEVENFOUR_MODEL_BATCH"] = batch
    if threads:
        env["SEVENFOUR_MODEL_THREADS"] = str(threads)
    return env


def export_variants(runtimes: list[str]) -> set[str]:
    names = {r.removesuffix("+all").partition("+p")[0].partition("@")[0] for r in runtimes}
    return {"int8" if r.endswith(":int8") else "fp32" for r in names if r != "tensorflow"}


def start(runtime: str, first_clip: Path, threads: int, work_dir: str, png: bool) -> Runner:
    """A fresh process for `runtime`, timed from its start to its first result."""
    env = {**os.environ, **runtime_env(runtime, threads), "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "--work-dir", work_dir]
    if png:
        command += ["--spectrogram"]
    begin = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    runner = Runner(runtime, proc)
    assert proc.stdout is not None
    header = json.loads(proc.stdout.readline() or "{}")
    runner.ask(str(first_clip))
    runner.cold_s = time.perf_counter() - begin
    runner.import_s, runner.load_s = header.get("import_s", 0.0), header.get("load_s", 0.0)
    return runner


class Forker:
    """The process `fork_parent` runs: warmed once here (not timed), then asked for one forked cold start
    per runtime."""

    def __init__(self, runtimes: list[str], work_dir: str, png: bool) -> None:
        command = [sys.executable, str(Path(__file__).resolve()), "--fork-parent", "--work-dir", work_dir]
        command += ["--runtimes", ",".join(runtimes)] + (["--spectrogram"] if png else [])
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        env.pop("SEVENFOUR_MODEL_RUNTIME", None)  # the parent loads no model; each child is told its own
        self.proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        ready = self.proc.stdout.readline()
        if not ready:
            self.close()
            raise RuntimeError("the forking benchmark process died while warming up")
        self.warm_s: float = json.loads(ready)["warm_s"]

    def cold_start(self, runner: Runner, first_clip: Path, threads: int) -> None:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        request = {"env": runtime_env(runner.runtime, threads), "clip": str(first_clip)}
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline() or '{"error": "the forking process died"}')
        if "error" in answer:
            raise RuntimeError(f"{runner.runtime}: {answer['error']}")
        runner.fork_load_s, runner.fork_first_s = answer["load_s"], answer["first_s"]

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def write_clips(folder: Path, n: int, fmt: str, *, first_seed: int = 0) -> list[Path]:
    """n synthetic 30 s clips, drums and bass and piano in turn, each from its own seed."""
    import soundfile as sf

    from worker.audio import synth

    paths = []
    for i in range(n):
        make = synth.drums_and_bass if i % 2 == 0 else synth.piano_piece
        path = folder / f"clip{i:03d}.{fmt}"
        sf.write(path, make(30.0, seed=first_seed + i), synth.SR, format=fmt.upper())
        paths.append(path)
    return paths


def stat(runner: Runner, stage: str) -> tuple[float, float]:
    values = [t[stage] * 1000 for t in runner.timings if stage in t]
    if not values:
        return float("nan"), float("nan")
    return float(np.median(values)), float(np.percentile(values, 95))


def report(
    runners: list[Runner],
    n: int,
    fmt: str,
    threads: int,
    png: bool,
    warm_s: float,
    capacity: machine.Capacity,
) -> None:
    base = runners[0]
    load = os.getloadavg()
    print(f"machine: {machine.cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(capacity.describe())
    print(capacity.describe_backbone())
    print(
        f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (above ~0.5 the machine was busy)"
    )
    print(
        f"clips: {n} warm x 30 s {fmt} per runtime, taken in turns; threads per process: {threads or 'default'}"
    )
    print(
        "timed: the ML path (decode, features, model, tempo/key, saving the mel); the spectrogram PNG is "
        + (
            "ALSO drawn in-process here (--spectrogram) and included in the total"
            if png
            else "drawn by the I/O queue, not part of these figures"
        )
    )
    print(f"ratios: against {base.runtime} (x < 1 is faster / smaller)")
    header = (
        f"{'runtime':<18} {'total med':>9} {'p95':>7} {'ratio':>6} {'model med':>9} {'p95':>7} {'ratio':>6}"
        f" {'cold s':>7} {'ratio':>6} {'fork s':>7} {'ratio':>6} {'RSS MiB':>8} {'ratio':>6} {'CPU ms':>7} {'ratio':>6}"
        f" {'patches':>7}"
    )
    print(header)
    print("-" * len(header))
    total0, model0, cpu0 = stat(base, "total")[0], stat(base, "model")[0], stat(base, "cpu")[0]
    for r in runners:
        total, model = stat(r, "total"), stat(r, "model")
        print(
            f"{r.runtime:<18} {total[0]:>9.1f} {total[1]:>7.1f} {total[0] / total0:>6.2f}"
            f" {model[0]:>9.1f} {model[1]:>7.1f} {model[0] / model0:>6.2f}"
            f" {r.cold_s:>7.2f} {r.cold_s / base.cold_s:>6.2f}"
            f" {r.fork_s:>7.2f} {r.fork_s / base.fork_s:>6.2f}"
            f" {r.peak_rss_mib:>8.0f} {r.peak_rss_mib / base.peak_rss_mib:>6.2f}"
            f" {stat(r, 'cpu')[0]:>7.0f} {stat(r, 'cpu')[0] / cpu0:>6.2f}"
            f" {np.mean([t['patches'] for t in r.timings]):>7.1f}"
        )
    print()
    print(
        "per stage, median ms (cold start split, s: import of the pipeline / model load;"
        " forked cold start split, s: model load / first clip)"
    )
    print(
        f"{'runtime':<18} "
        + " ".join(f"{s:>9}" for s in STAGES[:-1])
        + f" {'import':>7} {'load':>6} {'f.load':>6} {'f.1st':>6}"
    )
    for r in runners:
        cells = " ".join(f"{stat(r, s)[0]:>9.1f}" for s in STAGES[:-1])
        print(
            f"{r.runtime:<18} {cells} {r.import_s:>7.2f} {r.load_s:>6.2f}"
            f" {r.fork_load_s:>6.2f} {r.fork_first_s:>6.2f}"
        )
    print(
        f"before forking: the parent imported the pipeline and warmed the analysis in {warm_s:.2f} s"
        " (once per ML worker, before its pool starts; part of neither cold start)"
    )
    print()
    for r in runners:
        wall = sum(t["total"] for t in r.timings)
        print(f"{r.runtime:<18} {len(r.timings) / wall:.2f} clips/s one process, back to back")
    print()
    report_floor(runners, capacity, threads or capacity.cores)


def report_floor(runners: list[Runner], capacity: machine.Capacity, cores: int) -> None:
    """The backbone's arithmetic at the probe's throughput, beside what each runtime took."""
    macs, gflops = capacity.macs_per_patch, capacity.gflops
    print(f"arithmetic floor: the backbone's MACs at {gflops:.1f} GFLOP/s per core (fp32 GEMM probe above)")
    for n in (5, 10):
        print(
            f"  {n:>2} patches, {n * macs / 1e9:.1f} GMACs: {machine.floor_ms(n * macs, gflops):.0f} ms"
            f" on one core, {machine.floor_ms(n * macs, gflops, cores):.0f} ms on {cores}"
        )
    print(
        f"{'runtime':<18} {'patches':>7} {'floor 1c':>8} {'model CPU':>9} {'GFLOP/s':>8} {'of probe':>8}"
        f" {f'floor {cores}c':>8} {'model med':>9}"
    )
    for r in runners:
        patches = float(np.mean([t["patches"] for t in r.timings]))
        clip_macs = patches * macs
        print(
            f"{r.runtime:<18} {patches:>7.1f} {machine.floor_ms(clip_macs, gflops):>8.0f}"
            f" {r.model_cpu_s * patches * 1000:>9.0f} {machine.achieved_gflops(macs, r.model_cpu_s):>8.1f}"
            f" {machine.efficiency(macs, r.model_cpu_s, gflops):>8.0%}"
            f" {machine.floor_ms(clip_macs, gflops, cores):>8.0f} {stat(r, 'model')[0]:>9.1f}"
        )
    print(
        "ms per clip at its mean patches read. model CPU, GFLOP/s: the backbone alone over one clip's"
        f" patches ({MODEL_RUNS} runs, median), CPU time of all its threads; of probe = floor 1c / model CPU."
        " int8 and bf16 runtimes do less fp32 arithmetic, so they can pass 100 %."
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=20, help="warm clips per runtime (default 20)")
    parser.add_argument("--runtimes", default=",".join(DEFAULT_RUNTIMES), help="comma-separated")
    parser.add_argument("--threads", type=int, default=0, help="threads per ONNX process (0: default)")
    parser.add_argument("--format", default="mp3", choices=["mp3", "wav", "flac", "ogg"])
    parser.add_argument(
        "--spectrogram",
        action="store_true",
        help="also draw the PNG per clip in-process (the I/O worker's job)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fork-parent", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--work-dir", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    runtimes = [r.strip() for r in args.runtimes.split(",") if r.strip()]
    if args.child:
        child(args.work_dir, args.spectrogram)
        return
    if args.fork_parent:
        fork_parent(runtimes, args.work_dir, args.spectrogram)
        return

    from worker.backbone.serving import ensure_onnx

    # Before any runtime starts, so that none of ours competes with the probe.
    capacity = machine.measure()
    # Exports are made (once, cached) before any timing: they are a build step, not a cold start.
    for variant in export_variants(runtimes):
        ensure_onnx(variant)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clips = write_clips(folder, args.n + 1, args.format)
        runners: list[Runner] = []
        try:
            forker = Forker(runtimes, str(folder), args.spectrogram)
            warm_s = forker.warm_s
            try:
                # Each runtime's forked cold start right after its fresh one, so that both meet the
                # same load; the fresh processes wait on their stdin meanwhile, idle.
                for runtime in runtimes:
                    runners.append(start(runtime, clips[0], args.threads, str(folder), args.spectrogram))
                    forker.cold_start(runners[-1], clips[0], args.threads)
            finally:
                forker.close()
            for clip in clips[1:]:
                for runner in runners:
                    time.sleep(TURN_PAUSE_S)
                    runner.timings.append(runner.ask(str(clip))["timings"])
            for runner in runners:
                time.sleep(TURN_PAUSE_S)
                runner.model_cpu_s = runner.ask(f"model {clips[1]}")["model_cpu_s"]
            for runner in runners:
                runner.peak_rss_mib = runner.ask("rss")["peak_rss_mib"]
        finally:
            for runner in runners:
                assert runner.proc.stdin is not None
                runner.proc.stdin.close()
                runner.proc.wait(timeout=60)
    report(runners, args.n, args.format, args.threads, args.spectrogram, warm_s, capacity)


if __name__ == "__main__":
    main()
