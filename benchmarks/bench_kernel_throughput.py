"""How fast is FullyConnectedNTK next to neural-tangents' kernel_fn, same network?

Question: the time to compute the full n x n float64 NTK of the paper's fully-connected
network (depth x [Dense, normalised erf] -> Dense(1), b_std = 0) on MNIST-like
784-dimensional unit-norm inputs, for our closed-form kernel and for neural-tangents'
``stax`` ``kernel_fn`` (``nt.batch`` in tiles of 1000 x 1000, each jitted; one call
for the whole matrix needs 25 GB at n = 4000, depth 100), n in {1000, 4000},
depth in {10, 100}. Medians of repeated warm calls (compilation excluded, reported
apart as the first call), and the largest relative off-diagonal difference between the
two as a sanity check.

Run (neural-tangents needs jax < 0.6, so both kernels run in that environment)::

    /tmp/venv-nt/bin/python benchmarks/bench_kernel_throughput.py \\
        --mnist ../shared/mnist.npz --out benchmarks/results/kernel_throughput.json

Without neural-tangents only our kernel is timed (e.g. in the core environment, with
jax >= 0.6; ``--out benchmarks/results/kernel_throughput_core.json``). ``--quick``
runs n = 500, depth 10, one repeat.

Last numbers (2026-11-24, 2-core x86-64 container, no GPU, quiet machine, one BLAS
thread, MNIST 8/9 inputs), after the kernel speed-ups (norm recursion on row/column
vectors, one shared square root, symmetric tiles). One run in venv-nt (jax 0.5.3,
neural-tangents 0.6.5), medians of 3 warm calls in seconds::

    n      depth  ours     NT       ours/NT  max rel. diff off-diagonal
    1000   10     0.100    0.124    0.81     6.3e-12
    4000   10     1.24     2.08     0.60     1.3e-11
    1000   100    0.733    1.04     0.70     6.3e-12
    4000   100    8.16     16.8     0.49     1.3e-11

Earlier numbers on a heavily shared machine (load 4-14), before the speed-ups, had
ours at 1.49, 0.74, 0.88 and 0.70 times NT. First calls: NT compiles the unrolled
depth-100 network for ~30 s, ours ~1 s. Diagonals differ by ~1e-5 at depth 100
because ours come from the norms (see FullyConnectedNTK).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

#: Rows per neural-tangents tile (nt.batch): tiles of 1000 x 1000 entries.
NT_BATCH = 1000


def load_inputs(n, mnist, seed=0):
    """``n`` unit-norm 784-dim inputs: MNIST 8s and 9s (the FC task) or random."""
    rng = np.random.default_rng(seed)
    if mnist is not None:
        data = np.load(mnist)
        images, labels = data["x_train"], data["y_train"]
        pick = np.flatnonzero((labels == 8) | (labels == 9))
        X = images[rng.choice(pick, size=n, replace=False)].reshape(n, -1)
        X = X.astype(np.float64)
        X = (X - X.mean()) / X.std()
    else:
        X = rng.normal(size=(n, 784))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def timed(fn, repeats):
    start = time.perf_counter()
    out = fn()
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return out, first, statistics.median(times), times


def neural_tangents_kernel(depth):
    """Jitted ``kernel_fn(X) -> K`` of the same network, or None without the extra."""
    try:
        import neural_tangents as nt
        from neural_tangents import stax
    except Exception as exc:  # missing, or jax >= 0.6
        print(f"neural-tangents not available ({exc!r}): timing ours only", flush=True)
        return None, None
    from qntk_sklearn.kernels import default_W_std
    from qntk_sklearn.kernels._base import x64

    W = default_W_std("erf")
    layers = [stax.Dense(512, W_std=W, b_std=0.0), stax.Erf()] * depth
    kernel_fn = stax.serial(*layers, stax.Dense(1, W_std=W, b_std=0.0))[2]
    # One jitted call for n = 4000 at depth 100 asks XLA for 25 GB: batch it, as
    # neural-tangents recommends (nt.batch jits each tile).
    batched = nt.batch(kernel_fn, batch_size=NT_BATCH, store_on_device=False)

    def compute(X):
        with x64():
            return np.asarray(batched(X, None, "ntk"), dtype=np.float64)

    return compute, nt.__version__


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n=500, depth 10, 1 rep")
    parser.add_argument("--mnist", default=None, help="path to mnist.npz")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000])
    parser.add_argument("--depths", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--out", default="benchmarks/results/kernel_throughput.json")
    args = parser.parse_args(argv)

    import jax

    from qntk_sklearn.kernels import FullyConnectedNTK

    if args.quick:
        sizes, depths, repeats = [500], [10], 1
    else:
        sizes, depths, repeats = args.sizes, args.depths, args.repeats
    mnist = args.mnist
    if mnist is not None and not os.path.exists(mnist):
        print(f"{mnist} not found: using random inputs", flush=True)
        mnist = None

    rows = []
    nt_version = None
    for depth in depths:
        ours = FullyConnectedNTK(depth=depth)
        theirs, nt_version = neural_tangents_kernel(depth)
        for n in sizes:
            X = load_inputs(n, mnist)
            K, first, median, times = timed(lambda X=X, f=ours: f(X), repeats)
            row = dict(
                n=n,
                depth=depth,
                ours_first_s=first,
                ours_median_s=median,
                ours_times_s=times,
                ours_entries_per_s=n * n / median,
            )
            if theirs is not None:
                K_nt, first, median, times = timed(lambda X=X, f=theirs: f(X), repeats)
                off = ~np.eye(n, dtype=bool)
                row.update(
                    nt_first_s=first,
                    nt_median_s=median,
                    nt_times_s=times,
                    nt_entries_per_s=n * n / median,
                    ours_over_nt=row["ours_median_s"] / median,
                    max_rel_diff_offdiag=float(
                        np.max(np.abs(K[off] - K_nt[off]) / np.abs(K_nt[off]))
                    ),
                    max_rel_diff_diag=float(
                        np.max(np.abs(np.diag(K) - np.diag(K_nt)) / np.diag(K_nt))
                    ),
                )
                del K_nt
            del K
            rows.append(row)
            print(
                f"n={n:5d} depth={depth:3d}  ours {row['ours_median_s']:8.3f} s"
                + (
                    f"  NT {row['nt_median_s']:8.3f} s  ours/NT "
                    f"{row['ours_over_nt']:.2f}  max rel diff off-diag "
                    f"{row['max_rel_diff_offdiag']:.1e}"
                    if "nt_median_s" in row
                    else ""
                ),
                flush=True,
            )

    try:
        load = os.getloadavg()
    except OSError:  # pragma: no cover - not on every platform
        load = None
    result = dict(
        question="FullyConnectedNTK vs neural-tangents kernel_fn: n x n float64 NTK",
        date=datetime.datetime.now().isoformat(timespec="seconds"),
        machine=dict(
            platform=platform.platform(),
            processor=platform.processor() or platform.machine(),
            cpu_count=os.cpu_count(),
            load_average_at_end=load,
            python=sys.version.split()[0],
            jax=jax.__version__,
            neural_tangents=nt_version,
        ),
        inputs="MNIST 8 vs 9, standardised, unit norm" if mnist else "random unit norm",
        network="depth x [Dense, erf] -> Dense(1), W_std = 1/sqrt(E[erf^2]), b_std = 0",
        repeats=repeats,
        quick=args.quick,
        rows=rows,
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
