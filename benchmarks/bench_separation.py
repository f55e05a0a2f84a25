"""How long does ``depth="auto"`` spend on the separation, and how much memory?

``depth="auto"`` needs the separation ``delta = min_{i != j} (1 - |cos(x_i, x_j)|)``
of the training set. The previous implementation multiplied every row block by all
rows in float64 (no symmetry); ``qntk_sklearn.separation`` now takes float32
candidates over the upper triangle and refines them in float64 (exact, see
``qntk_sklearn/estimators/_depth.py``). Both run here side by side on the first n
MNIST training images (``Normalizer``, as the paper's unit sphere), each in a fresh
subprocess so that peak RSS (``resource.getrusage``) is the computation's own; the
deltas must agree to the rounding of one dot product. ``n_jobs`` of the new one is 1
(numpy's BLAS threads as configured) and 2 (two joblib threads).

Last measured 2026-12-02 on the 2-core AMD EPYC VM (24 GiB), OpenBLAS default threads
(2), on an otherwise idle machine (1-minute load 0.09 before the first run; the 1.9-2.1
before the last two is this script's own all-pairs run); peak RSS of the whole process
(data included)::

    n       method                    n_jobs  wall s  CPU s  peak MiB
    10000   all pairs, float64        -         2.08    3.9    509
    10000   float32 + float64 refine  1         0.91    1.5    310
    10000   float32 + float64 refine  2         0.92    1.5    310
    60000   all pairs, float64        -        85.7   126.3   2280
    60000   float32 + float64 refine  1        20.1    38.3    944
    60000   float32 + float64 refine  2        21.3    39.4    944

4.3x faster and 3.3x less CPU at n = 60,000; the float32 pass already keeps both
cores busy through BLAS, so ``n_jobs=2`` adds nothing. Same pair and the same delta
to one unit in the last place (0.008285846083293302 vs ...191 at n = 60,000).
Earlier runs on the shared machine (load 1-4) measured 95-119 s vs 30-42 s.

Run ``python benchmarks/bench_separation.py`` (n = 10,000 and 60,000; about 4
minutes on 2 idle cores, most of it the all-pairs baseline at 60,000) or ``--quick``
(n = 2,000 and 10,000).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MNIST = REPO.parent / "shared" / "mnist.npz"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "bench_separation.json"


def all_pairs_separation(X, block_rows=1024):
    """The previous implementation (qntk-sklearn before issue 9): float64, all pairs."""
    import numpy as np

    n = X.shape[0]
    norms = np.linalg.norm(X, axis=1)
    U = X / np.where(norms > 0, norms, 1.0)[:, None]
    best = 1.0
    for start in range(0, n, block_rows):
        cos = np.abs(U[start : start + block_rows] @ U.T)
        idx = np.arange(start, min(start + block_rows, n))
        cos[idx - start, idx] = 0.0
        best = min(best, 1.0 - float(cos.max()))
    return max(best, 0.0)


def run_child(cfg):
    import numpy as np
    from sklearn.preprocessing import Normalizer

    from qntk_sklearn.estimators._depth import _separation_info

    data = np.load(cfg["mnist"])
    X = data["x_train"][: cfg["n"]].reshape(cfg["n"], -1).astype(np.float64)
    X = Normalizer().fit_transform(X)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    t0 = time.perf_counter()
    c0 = time.process_time()
    if cfg["method"] == "all_pairs":
        delta, info = all_pairs_separation(X), None
    else:
        info = _separation_info(X, n_jobs=cfg["n_jobs"])
        delta = info.delta
    out = {
        "seconds": time.perf_counter() - t0,
        "cpu_seconds": time.process_time() - c0,
        "delta": delta,
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "rss_before": rss_before,
        "loadavg_1min_before": cfg["load"],
    }
    if info is not None:
        out.update(pair=info.pair, n_distinct=info.n_distinct)
    print(json.dumps(out))


def spawn(cfg):
    cfg = dict(cfg, load=os.getloadavg()[0])
    proc = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(cfg)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="n = 2000, 10000")
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--mnist", default=str(DEFAULT_MNIST))
    parser.add_argument("--out", default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        run_child(json.loads(args.child))
        return
    sizes = args.sizes or ([2000, 10000] if args.quick else [10000, 60000])
    out_path = (
        Path(args.out)
        if args.out
        else (
            DEFAULT_OUT.with_name("bench_separation_quick.json")
            if args.quick
            else DEFAULT_OUT
        )
    )
    mnist = str(Path(args.mnist).resolve())
    records = []
    for n in sizes:
        for method, n_jobs in (("all_pairs", None), ("new", 1), ("new", 2)):
            rec = spawn(dict(mnist=mnist, n=n, method=method, n_jobs=n_jobs))
            rec.update(n=n, method=method, n_jobs=n_jobs)
            records.append(rec)
            print(
                f"n={n:>6} {method:9s} n_jobs={n_jobs!s:4s} {rec['seconds']:7.2f} s "
                f"(cpu {rec['cpu_seconds']:6.1f} s) "
                f"peak {rec['peak_rss'] / 2**20:6.0f} MiB delta={rec['delta']!r} "
                f"load={rec['loadavg_1min_before']:.2f}",
                flush=True,
            )
    for n in sizes:
        deltas = [r["delta"] for r in records if r["n"] == n]
        assert max(deltas) - min(deltas) <= 784 * 2.0**-52, deltas
    result = {
        "question": "Time and peak memory of the separation of depth='auto': "
        "all-pairs float64 (before) vs float32 candidates + float64 refinement",
        "date": _dt.date.today().isoformat(),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
        },
        "quick": args.quick,
        "records": records,
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out_path}")


if __name__ == "__main__":
    main()
