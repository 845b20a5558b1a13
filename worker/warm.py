"""`python -m worker.warm`: compile librosa's numba functions now, at install time.

librosa compiles its jitted helpers (the beat tracker's dynamic programme, local maxima, the STFT's
magnitude) the first time a process uses them and caches the machine code beside librosa's sources
(or in NUMBA_CACHE_DIR). On a fresh install nothing is cached, so the first ML worker to start paid
the whole compilation: 62 s of CPU on a 2-core AVX2 host, against 9 s once the cache exists (the
rest is imports and the one guvectorized helper librosa does not cache). `make install` and the
Dockerfile run this once, so that cost is paid by the build, not by the first song.
"""

from __future__ import annotations

import time

from worker.predictor import warm_up_analysis


def main() -> None:
    started = time.perf_counter()
    warm_up_analysis()
    print(f"librosa's numba functions compiled and cached in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
