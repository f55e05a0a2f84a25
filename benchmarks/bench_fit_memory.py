"""How long does QuantumNTKClassifier take to fit, and how much memory does it use,
with the paper's random sparsification (``sparsity="random"``) against the exact
dense kernel (``sparsity="none"``) as the training set grows?

Data: MNIST 8 vs 9 from the training set (balanced random subsets of n; all 11800
images at the largest n), preprocessed as in the paper (one global mean and std,
taken on the training images, then every image to unit L2 norm); accuracy on all
1983 test-set 8s and 9s. Fixed depth 40 (the paper's ``depth="auto"`` would give the
depth recorded as ``depth_auto``; it is not run, only its cost, the O(n^2 d)
separation, is timed). Every configuration runs in a fresh subprocess, so peak
memory is the child's own, measured after a warm-up that imports jax and starts its
runtime (a fixed ~200 MiB, included in ``rss_before_fit``): ``fit_peak_rss`` is the
peak resident set size during ``fit`` (the kernel's high-water mark reset just before
it), ``fit_delta_rss`` that
minus the resident size just before ``fit``, and ``fit_tracemalloc_peak`` the peak of
Python/numpy allocations during ``fit`` (jax buffers are not traced) from one extra
run with tracemalloc on. Times are medians of the repeats; predict and accuracy are
taken in the first repeat only (they are deterministic given the seed). The machine
may be shared: each fit also records its CPU time (all threads) and the 1-minute load
average before it, so contention shows in the JSON.

Last measured 2026-11-24 on a 2-core Intel Xeon VM (24 GiB, no GPU), quiet machine,
depth 40, full run (3 repeats at n = 1000 and 4000, 1 at n = 11800), 1983 test points,
after the kernel and memory fixes (pairs gathered per chunk, sparse spectra never
densified, symmetric tiles). Peak RSS includes ~350 MiB of interpreter, jax and data
before ``fit``::

    n      sparsity  fit s  peak RSS  +fit  traced  n^2*8  kappa  s      acc
                            MiB       MiB   MiB     MiB
    1000   random    0.51   367       43    32.7    8      1.00   18     0.9506
    1000   none      0.74   387       60    23.7    8      1.10   1000   0.9511
    4000   random    0.77   394       50    33.4    122    1.00   22     0.9541
    4000   none      7.72   858       517   367.8   122    1.41   4000   0.9556
    11800  random    0.90   431       45    35.6    1062   1.00   23     0.9531
    11800  none      48.2   3846      3456  -       1062   2.22   11800  0.9586

At n = 11800, "random" fits 54x faster than "none" and adds 45 MiB where the dense
kernel alone is 1062 MiB: its memory no longer grows with n^2 (the traced peak stays
at ~35 MiB from n = 1000 to 11800), for 0.55 points of accuracy. ``depth="auto"`` would
give 92, 111 and 121 (separation 0.050, 0.025, 0.025). An earlier run on a shared
machine (load 5-13), before the fixes, measured 9.2 s / 678 MiB extra ("random") and
731 s / 3306 MiB extra ("none") at n = 11800.

Run ``python benchmarks/bench_fit_memory.py`` (about 3 minutes on an idle 2-core
machine) or ``--quick`` (about a minute).
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
DEFAULT_MNIST = REPO.parent / "shared" / "mnist.npz"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "bench_fit_memory.json"
SEED = 0


# --- data (shared by parent and child) -------------------------------------------
def load_pair(path, n_train, n_test, seed=SEED, digits=(8, 9)):
    """MNIST ``digits[0]`` vs ``digits[1]``, paper preprocessing; labels in {-1, +1}.

    ``n_train`` balanced training images (all of them if ``n_train`` is 0 or at least
    the number available); ``n_test`` balanced test images (0: all).
    """
    import numpy as np

    data = np.load(path)
    rng = np.random.default_rng(seed)

    def select(x, y, n):
        idx = [np.flatnonzero(y == d) for d in digits]
        total = sum(i.size for i in idx)
        if n and n < total:
            half = n // 2
            idx = [
                rng.choice(i, size=k, replace=False)
                for i, k in zip(idx, (half, n - half), strict=True)
            ]
        keep = np.sort(np.concatenate(idx))
        X = x[keep].reshape(keep.size, -1).astype(np.float64)
        labels = np.where(y[keep] == digits[1], 1, -1)
        return X, labels

    X, y = select(data["x_train"], data["y_train"], n_train)
    X_test, y_test = select(data["x_test"], data["y_test"], n_test)
    mean, std = X.mean(), X.std()  # one global mean and std, from the training images
    X = (X - mean) / std
    X_test = (X_test - mean) / std
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    X_test /= np.linalg.norm(X_test, axis=1, keepdims=True)
    return X, y, X_test, y_test


def _proc_status():
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("VmRSS", "VmHWM")):
                key, value = line.split(":")
                out[key] = int(value.split()[0]) * 1024  # bytes
    return out


def _cpu_seconds():
    """User + system CPU time of this process, all threads."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _reset_peak_rss():
    """Reset the kernel's resident-set high-water mark (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:  # pragma: no cover - not Linux
        return False


# --- child: one configuration ------------------------------------------------------
def run_child(cfg):
    import resource
    import tracemalloc

    if cfg.get("max_memory_gb"):  # fail with MemoryError rather than OOM-kill others
        limit = int(cfg["max_memory_gb"] * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    import numpy as np
    import scipy.sparse as sp

    X, y, X_test, y_test = load_pair(cfg["mnist"], cfg["n"], cfg["n_test"])
    from qntk_sklearn import QuantumNTKClassifier
    from qntk_sklearn.kernels import FullyConnectedNTK

    # Import jax and start its CPU runtime before measuring: that fixed cost (about
    # 200 MiB resident, tens of MiB of traced Python objects) is not the algorithm's.
    FullyConnectedNTK(depth=2)(X[:4])
    clf = QuantumNTKClassifier(
        depth=cfg["depth"], sparsity=cfg["sparsity"], random_state=SEED
    )
    rss_before = _proc_status()["VmRSS"]
    peak_reset = _reset_peak_rss()
    if cfg["tracemalloc"]:
        tracemalloc.start()
    load_before = os.getloadavg()[0]
    cpu0 = _cpu_seconds()
    t0 = time.perf_counter()
    clf.fit(X, y)
    fit_s = time.perf_counter() - t0
    fit_cpu_s = _cpu_seconds() - cpu0
    traced_peak = None
    if cfg["tracemalloc"]:
        traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    status = _proc_status()
    out = {
        "n": int(X.shape[0]),
        "sparsity": cfg["sparsity"],
        "depth": cfg["depth"],
        "fit_s": fit_s,
        "fit_cpu_s": fit_cpu_s,
        "loadavg_1min_before_fit": load_before,
        "rss_before_fit": rss_before,
        "fit_peak_rss": status["VmHWM"] if peak_reset else None,
        "fit_delta_rss": (status["VmHWM"] - rss_before) if peak_reset else None,
        "fit_tracemalloc_peak": traced_peak,
        "condition_number": float(clf.condition_number_),
        "sparsity_": int(clf.sparsity_),
        "kernel_nnz": int(
            clf.kernel_.nnz if sp.issparse(clf.kernel_) else clf.kernel_.size
        ),
        "kernel_is_sparse": bool(sp.issparse(clf.kernel_)),
        "solver": type(clf.solver_).__name__,
        "solver_method": getattr(clf.solver_, "method_", None),
    }
    if cfg["predict"]:
        t0 = time.perf_counter()
        y_pred = clf.predict(X_test)
        out["predict_s"] = time.perf_counter() - t0
        out["n_test"] = int(X_test.shape[0])
        out["accuracy"] = float(np.mean(y_pred == y_test))
    out["process_maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print("RESULT " + json.dumps(out), flush=True)


def spawn(cfg, timeout):
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(cfg)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"child failed for {cfg}:\n{proc.stderr[-4000:]}")
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"no result from child for {cfg}:\n{proc.stdout[-2000:]}")


# --- parent ------------------------------------------------------------------------
def auto_depth(mnist, n, n_test):
    """What ``depth="auto"`` would choose at this n, and what choosing it costs."""
    from qntk_sklearn import convergence_depth, separation

    X, _, _, _ = load_pair(mnist, n, n_test)
    t0 = time.perf_counter()
    delta = separation(X)
    cost = time.perf_counter() - t0
    L_conv = convergence_depth(X.shape[0], delta, "erf")
    return {
        "n": int(X.shape[0]),
        "delta": delta,
        "L_conv": L_conv,
        "depth_auto": max(1, int(round(0.1 * L_conv))),
        "separation_s": cost,
    }


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small n, one repeat")
    parser.add_argument("--mnist", default=str(DEFAULT_MNIST))
    parser.add_argument("--out", default=None)
    parser.add_argument("--depth", type=int, default=40)
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=None,
        help="training-set sizes; 0 means all 11800 images",
    )
    parser.add_argument(
        "--n-test", type=int, default=0, help="test points (0: all 1983)"
    )
    parser.add_argument(
        "--max-memory-gb",
        type=float,
        default=12.0,
        help="address-space limit of each child (0: none)",
    )
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        run_child(json.loads(args.child))
        return

    sizes = args.sizes or ([300, 1000] if args.quick else [1000, 4000, 0])
    n_test = args.n_test or (256 if args.quick else 0)
    out_path = (
        Path(args.out)
        if args.out
        else (
            DEFAULT_OUT.with_name("bench_fit_memory_quick.json")
            if args.quick
            else DEFAULT_OUT
        )
    )
    mnist = str(Path(args.mnist).resolve())
    t_start = time.perf_counter()
    records = []
    for n in sizes:
        auto = auto_depth(mnist, n, n_test)
        n_eff = auto["n"]
        repeats = 1 if (args.quick or n_eff > 5000) else 3
        print(
            f"n={n_eff}: depth_auto={auto['depth_auto']} "
            f"(separation {auto['separation_s']:.1f} s)",
            flush=True,
        )
        for sparsity in ("random", "none"):
            runs = []
            for r in range(repeats):
                cfg = dict(
                    mnist=mnist,
                    n=n,
                    n_test=n_test,
                    depth=args.depth,
                    sparsity=sparsity,
                    predict=(r == 0),
                    tracemalloc=False,
                    max_memory_gb=args.max_memory_gb,
                )
                runs.append(spawn(cfg, timeout=3600))
                print(
                    f"  {sparsity:6s} repeat {r}: fit {runs[-1]['fit_s']:.2f} s, peak "
                    f"{runs[-1]['fit_peak_rss'] / 2**20:.0f} MiB",
                    flush=True,
                )
            # tracemalloc in its own run (it slows Python-level allocation); skipped
            # where the fit alone takes minutes: the dense kernel is n^2 * 8 bytes.
            traced = None
            if sparsity == "random" or n_eff <= 5000:
                cfg = dict(
                    mnist=mnist,
                    n=n,
                    n_test=n_test,
                    depth=args.depth,
                    sparsity=sparsity,
                    predict=False,
                    tracemalloc=True,
                    max_memory_gb=args.max_memory_gb,
                )
                traced = spawn(cfg, timeout=3600)["fit_tracemalloc_peak"]
            first = runs[0]
            records.append(
                {
                    "n": n_eff,
                    "sparsity": sparsity,
                    "depth": args.depth,
                    "repeats": repeats,
                    "fit_s_median": _median([r["fit_s"] for r in runs]),
                    "fit_s_all": [r["fit_s"] for r in runs],
                    "fit_cpu_s_median": _median([r["fit_cpu_s"] for r in runs]),
                    "loadavg_1min_before_fit": [
                        r["loadavg_1min_before_fit"] for r in runs
                    ],
                    "fit_peak_rss_median": _median([r["fit_peak_rss"] for r in runs]),
                    "fit_delta_rss_median": _median([r["fit_delta_rss"] for r in runs]),
                    "rss_before_fit": first["rss_before_fit"],
                    "fit_tracemalloc_peak": traced,
                    "dense_kernel_bytes": n_eff * n_eff * 8,
                    "predict_s": first["predict_s"],
                    "n_test": first["n_test"],
                    "accuracy": first["accuracy"],
                    "condition_number": first["condition_number"],
                    "sparsity_": first["sparsity_"],
                    "kernel_nnz": first["kernel_nnz"],
                    "kernel_is_sparse": first["kernel_is_sparse"],
                    "solver": first["solver"],
                    "solver_method": first["solver_method"],
                    "process_maxrss": first["process_maxrss"],
                    "depth_auto": auto,
                }
            )
    result = {
        "question": "Fit time and peak memory of QuantumNTKClassifier, "
        "sparsity='random' vs 'none', MNIST 8 vs 9",
        "date": _dt.date.today().isoformat(),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
        },
        "versions": _versions(),
        "quick": args.quick,
        "settings": {
            "depth": args.depth,
            "seed": SEED,
            "n_test": n_test,
            "sizes": sizes,
        },
        "wall_s": time.perf_counter() - t_start,
        "records": records,
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=2) + "\n")
    _print_table(records)
    print(f"wrote {out_path} ({result['wall_s']:.0f} s)")


def _versions():
    import subprocess
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("qntk-sklearn", "numpy", "scipy", "scikit-learn", "jax"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    try:  # which package code was measured (the working tree may have edits)
        git = ["git", "-C", str(REPO)]
        out["git_head"] = subprocess.run(
            git + ["rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        out["git_dirty_package_files"] = subprocess.run(
            git + ["status", "--porcelain", "qntk_sklearn"],
            capture_output=True,
            text=True,
        ).stdout.splitlines()
    except OSError:
        pass
    return out


def _print_table(records):
    mib = 2**20
    print(
        f"{'n':>6} {'sparsity':8} {'fit s':>8} {'peak MiB':>9} {'+fit MiB':>9} "
        f"{'traced MiB':>10} {'n^2*8 MiB':>9} {'kappa':>9} {'s':>6} {'acc':>6} "
        f"{'pred s':>7} {'d_auto':>6}"
    )
    for r in records:
        traced = r["fit_tracemalloc_peak"]
        print(
            f"{r['n']:>6} {r['sparsity']:8} {r['fit_s_median']:>8.2f} "
            f"{r['fit_peak_rss_median'] / mib:>9.0f} "
            f"{r['fit_delta_rss_median'] / mib:>9.0f} "
            f"{(traced / mib if traced is not None else float('nan')):>10.1f} "
            f"{r['dense_kernel_bytes'] / mib:>9.0f} {r['condition_number']:>9.3g} "
            f"{r['sparsity_']:>6} {r['accuracy']:>6.4f} {r['predict_s']:>7.1f} "
            f"{r['depth_auto']['depth_auto']:>6}"
        )


if __name__ == "__main__":
    main()
