"""Nearest-neighbour search over the audio index: exact numpy (samples.audio_index.VectorIndex, what
the site uses) beside usearch's HNSW index (usearch==2.26.6), in one run, on the same vectors.

    .venv/bin/python bench/similarity.py                 # 100,000 vectors, 200 and 400 dimensions
    .venv/bin/python bench/similarity.py --n 20000 --dims 400 --queries 100   # a quick smoke run
    .venv/bin/python bench/similarity.py --indexing     # previews per second through decode + backbone

Prints, per method and dimension: build time, memory, query latency p50/p95 (top 10, one query at a
time, as "More like this sample" asks) and recall@10 against the exact answer. Target: ≤ 50 ms per
query. Random Gaussian vectors are the hard case for an ANN index (no clusters to exploit), so its
recall here is a floor. Figures depend on the machine: run it on a quiet one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from samples.audio_index import VectorIndex, unit  # noqa: E402

K = 10


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def bench_numpy(data: np.ndarray, queries: np.ndarray) -> tuple[dict[str, float], list[list[int]]]:
    start = time.perf_counter()
    index = VectorIndex(data.shape[1])
    index.add_many(range(len(data)), data)
    build = time.perf_counter() - start
    latencies, answers = [], []
    for q in queries:
        t = time.perf_counter()
        answers.append([key for key, _ in index.search(q, K)])
        latencies.append((time.perf_counter() - t) * 1000)
    return {"build_s": build, "memory_mb": index.nbytes / 2**20, **_latency(latencies)}, answers


def bench_usearch(data: np.ndarray, queries: np.ndarray) -> tuple[dict[str, float], list[list[int]]]:
    from usearch.index import Index

    start = time.perf_counter()
    index = Index(
        ndim=data.shape[1], metric="cos", dtype="f32", connectivity=16, expansion_add=128, expansion_search=64
    )
    index.add(np.arange(len(data)), data, threads=os.cpu_count() or 1)
    build = time.perf_counter() - start
    latencies, answers = [], []
    for q in queries:
        t = time.perf_counter()
        found = index.search(q, K, threads=1)
        answers.append([int(k) for k in found.keys])
        latencies.append((time.perf_counter() - t) * 1000)
    return {"build_s": build, "memory_mb": index.memory_usage / 2**20, **_latency(latencies)}, answers


def _latency(latencies: list[float]) -> dict[str, float]:
    return {
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "mean_ms": statistics.fmean(latencies),
    }


def recall(found: list[list[int]], exact: list[list[int]]) -> float:
    hits = sum(len(set(f) & set(e)) for f, e in zip(found, exact, strict=True))
    return hits / sum(len(e) for e in exact)


def bench_indexing(count: int, seconds: float, batch: int) -> None:
    """The audio index job's work per preview, without the network: decode an MP3 (ffmpeg) and run
    the backbone, `batch` previews per call, as samples.indexing does. Baseline in the same run:
    one preview per backbone call."""
    import subprocess
    import tempfile

    import soundfile as sf

    from worker.audio import synth
    from worker.backbone.embed import decode_clip, embed_clips

    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i in range(count):
            wav, mp3 = Path(tmp) / f"{i}.wav", Path(tmp) / f"{i}.mp3"
            audio = (
                synth.drums_and_bass(seconds, bpm=90 + i, seed=i)
                if i % 2
                else synth.piano_piece(seconds, seed=i)
            )
            sf.write(wav, audio, synth.SR)
            subprocess.run(
                ["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-b:a", "128k", str(mp3)], check=True
            )
            paths.append(mp3)
        embed_clips([decode_clip(paths[0])])  # load the backbone outside the timing
        for label, size in (("one per call (baseline)", 1), (f"batches of {batch}", batch)):
            start = time.perf_counter()
            decode = 0.0
            for k in range(0, count, size):
                t = time.perf_counter()
                clips = [decode_clip(p) for p in paths[k : k + size]]
                decode += time.perf_counter() - t
                embed_clips(clips)
            total = time.perf_counter() - start
            print(
                f"{label:<24} {count / total:6.2f} previews/s  (decode {decode / count * 1000:.0f} ms, "
                f"backbone {(total - decode) / count * 1000:.0f} ms per {seconds:g} s preview)"
            )
    print("the job also waits AUDIO_INDEX_PREVIEW_INTERVAL (1 s) between downloads: at most 1 preview/s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dims", type=int, nargs="+", default=[200, 400])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--indexing", action="store_true", help="measure indexing throughput instead")
    args = parser.parse_args()
    if args.indexing:
        bench_indexing(count=32, seconds=15.0, batch=16)
        return
    rng = np.random.default_rng(args.seed)
    print(f"{args.n:,} random vectors, {args.queries} queries of top {K}, cpu count {os.cpu_count()}")
    print(f"{'method':<22} {'dim':>4} {'build s':>8} {'MB':>8} {'p50 ms':>8} {'p95 ms':>8} {'recall@10':>10}")
    for dim in args.dims:
        data = unit(rng.standard_normal((args.n, dim)).astype(np.float32))
        queries = unit(rng.standard_normal((args.queries, dim)).astype(np.float32))
        exact_figures, exact = bench_numpy(data, queries)
        rows = [("numpy exact (baseline)", exact_figures, 1.0)]
        try:
            ann_figures, ann = bench_usearch(data, queries)
            rows.append(("usearch HNSW", ann_figures, recall(ann, exact)))
        except ImportError:
            print("usearch is not installed (pip install usearch==2.26.6): only the baseline is shown")
        for name, f, r in rows:
            print(
                f"{name:<22} {dim:>4} {f['build_s']:>8.2f} {f['memory_mb']:>8.1f} "
                f"{f['p50_ms']:>8.2f} {f['p95_ms']:>8.2f} {r:>10.3f}"
            )
    print("target: p95 ≤ 50 ms per query")


if __name__ == "__main__":
    main()
