"""Bench-only NumPy probe: float32 1024 x 1024 x 1024 matmul, median of repeats, as JSON on stdout.

Run by bench/run.ts with the first python3 that has NumPy; the bench prints n/a without one.
"""
import json
import os
import sys
import time

try:
    import numpy as np
except ImportError:
    print(json.dumps({"error": "numpy is not installed"}))
    sys.exit(0)

n = 1024
rng = np.random.default_rng(0)
a = rng.standard_normal((n, n), dtype=np.float32)
b = rng.standard_normal((n, n), dtype=np.float32)
a @ b  # warm-up: BLAS thread pool start
times = []
deadline = time.perf_counter() + 2.0
while len(times) < 20 and (len(times) < 3 or time.perf_counter() < deadline):
    t = time.perf_counter()
    a @ b
    times.append((time.perf_counter() - t) * 1000)
times.sort()
ms = times[len(times) // 2]
blas = ""
try:
    cfg = np.show_config(mode="dicts")  # NumPy >= 1.25
    blas = cfg.get("Build Dependencies", {}).get("blas", {}).get("name", "")
except Exception:
    pass
print("@@bench-result " + json.dumps({
    "numpy": np.__version__,
    "blas": blas,
    "threads_env": os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or "default",
    "ms_median": ms,
    "gflops": 2 * n ** 3 / ms / 1e6,
    "repeats": len(times),
}))
