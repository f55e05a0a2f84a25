"""How does ``OPENBLAS_NUM_THREADS`` change the time of the package's dense linear
algebra, in one process and in two processes sharing the cores (as ``pytest -n 2``
and ``--jobs 2`` experiment runs do)?

``scripts/test.sh`` and ``docs/build.sh`` pin one BLAS thread per process; the demo and
the other benchmarks run with whatever the environment says (OpenBLAS's default is one
thread per core). This script times, in fresh subprocesses with
``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS`` set before numpy
loads:

* ``eigvalsh600``: ``numpy.linalg.eigvalsh`` of a 600 x 600 SPD matrix (a fitted
  system's spectrum and condition number);
* ``cholesky3000``: ``scipy.linalg.cho_factor`` of a 3000 x 3000 SPD matrix (the
  exact solver on a dense NTK);
* ``fit_digits``: ``QuantumNTKClassifier(depth=8, sparsity="none").fit`` on 1000 of
  scikit-learn's digits (kernel in JAX, whose own thread pool the variable does not
  touch, then Cholesky).

for 1 and ``os.cpu_count()`` threads, with 1 process and with 2 processes started
together. Each number is a process's median over the repeats; with 2 processes the
slower process's median is reported. The 1-minute load average before each
configuration is recorded: on a shared machine, more threads than free cores is
exactly what hurts, so the load decides the numbers.

Last measured 2026-12-02 on a 2-core AMD EPYC VM (24 GiB, no GPU), shared with
other jobs (1-minute load 4.1 to 4.2 before each configuration, i.e. no free core),
full run (5 repeats), seconds::

    threads  processes  eigvalsh600  cholesky3000  fit_digits
    1        1          0.025        0.297         0.426
    2        1          0.039        0.672         0.777
    1        2          0.036        0.455         0.662
    2        2          0.331        3.855         1.904

On the busy machine a second BLAS thread never helped: one process was 1.5 to 2.3
times slower with 2 threads, and two processes with 2 threads each (4 spinning
threads on 2 cores, what ``pytest -n 2`` would do without the pin) were 3 to 9 times
slower than with 1 thread each. On an idle machine a single process may gain from a
second thread on the 3000 x 3000 factorisation; rerun there to know.

Run ``python benchmarks/bench_blas_threads.py`` (about a minute) or ``--quick`` (one
repeat; about 30 s). Rerun on a quiet machine for representative numbers.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "bench_blas_threads.json"
WORKLOADS = ("eigvalsh600", "cholesky3000", "fit_digits")
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


# --- child: run the workloads under the thread count its environment sets ---------
def _workloads():
    import numpy as np
    import scipy.linalg
    from sklearn.datasets import load_digits

    from qntk_sklearn import QuantumNTKClassifier

    rng = np.random.default_rng(0)
    a = rng.normal(size=(600, 600))
    spd600 = a @ a.T + 600 * np.eye(600)
    b = rng.normal(size=(3000, 3000))
    spd3000 = b @ b.T + 3000 * np.eye(3000)
    X, y = load_digits(return_X_y=True)
    X = X[:1000] / np.linalg.norm(X[:1000], axis=1, keepdims=True)
    y = y[:1000]
    return {
        "eigvalsh600": lambda: np.linalg.eigvalsh(spd600),
        "cholesky3000": lambda: scipy.linalg.cho_factor(spd3000),
        "fit_digits": lambda: QuantumNTKClassifier(
            depth=8, sparsity="none", random_state=0
        ).fit(X, y),
    }


def child(repeats):
    from threadpoolctl import threadpool_info

    work = _workloads()
    work["fit_digits"]()  # warm-up: jax compilation is not what is measured
    times = {}
    for name in WORKLOADS:
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            work[name]()
            runs.append(time.perf_counter() - start)
        times[name] = statistics.median(runs)
    blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    print(json.dumps({"times": times, "blas_threads": blas}))


# --- parent ------------------------------------------------------------------------
def run_config(threads, processes, repeats):
    env = {**os.environ, **{var: str(threads) for var in THREAD_VARIABLES}}
    env.setdefault("JAX_PLATFORMS", "cpu")
    load = os.getloadavg()[0]
    cmd = [sys.executable, __file__, "--child", "--repeats", str(repeats)]
    procs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True, cwd=REPO)
        for _ in range(processes)
    ]
    outputs = []
    for proc in procs:
        out, _ = proc.communicate(timeout=900)
        if proc.returncode:
            raise RuntimeError(f"child failed with status {proc.returncode}")
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    return {
        "threads": threads,
        "processes": processes,
        "load_1min_before": round(load, 2),
        "blas_threads_seen": outputs[0]["blas_threads"],
        # The slower process decides when a two-worker run finishes.
        "seconds": {
            name: round(max(o["times"][name] for o in outputs), 4) for name in WORKLOADS
        },
        "seconds_per_process": [o["times"] for o in outputs],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 repeat per workload")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 5)
    if args.child:
        child(repeats)
        return 0
    many = max(2, os.cpu_count() or 2)
    results = [
        run_config(threads, processes, repeats)
        for processes in (1, 2)
        for threads in (1, many)
    ]
    out = args.out or (
        DEFAULT_OUT.with_name(DEFAULT_OUT.stem + "_quick.json")
        if args.quick
        else DEFAULT_OUT
    )
    payload = {
        "question": __doc__.split("\n\n")[0].replace("\n", " "),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
        },
        "repeats": repeats,
        "results": results,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"{'threads':>7} {'procs':>5} {'load':>5}  " + "  ".join(WORKLOADS))
    for r in results:
        cells = "  ".join(f"{r['seconds'][w]:>{len(w)}.3f}" for w in WORKLOADS)
        print(
            f"{r['threads']:>7} {r['processes']:>5} {r['load_1min_before']:>5}  {cells}"
        )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
