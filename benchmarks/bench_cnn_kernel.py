"""How fast is the native MyrtleNTK next to neural-tangents, same network?

Question: kernel entries per second of the paper's Myrtle CNN NTK (``[Conv3x3, ReLU] x
depth/3, AvgPool, ... , Flatten, Dense(2), Erf, Dense(1)``, W_std = sqrt(2), b_std = 0,
float64) for :class:`qntk_sklearn.kernels.MyrtleNTK` (native: compiled loops, no
neural-tangents) and for neural-tangents' jitted ``stax`` ``kernel_fn`` of the same
network, on MNIST 0/1 images of 16 x 16 and 28 x 28, depth 12 and 96. Each
configuration times an ``n x n`` block between two different sets of images (both
kernels also compute each image's own covariances, as a block needs), medians of
repeated warm calls (the first call, with compilation, reported apart), ours with one
thread and with all cores; the largest relative difference between the two blocks is
the sanity check.

neural-tangents needs jax < 0.6, so the script runs itself a second time in the
neural-tangents environment (``--nt-python``, default ``.venv-nt/bin/python`` at the
repository root if it exists) and merges both sides into one JSON. One command::

    .venv/bin/python benchmarks/bench_cnn_kernel.py --nt-python .venv-nt/bin/python

``--quick``: 16 x 16, depth 12, 4 x 4 block, one repeat.

Last numbers (2026-12-02, 2-core AMD EPYC VM with AVX-512, no GPU, a machine shared
with other jobs: load average 6.9 before and 7.9 after the run, so absolute times are
inflated; neural-tangents 0.6.5 / jax 0.5.3 against numba 0.68 / numpy 2.4), ms per
kernel entry, medians of 3 warm calls::

    image  depth  block  ours 1 thread  ours 2 threads  neural-tangents  speed-up
    16x16  12     8x8    2.28           2.42            7.29             3.2x
    16x16  96     6x6    8.25           8.39            61.9             7.5x
    28x28  12     4x4    31.9           24.7            73.2             2.3x (3.0x)
    28x28  96     3x3    194            189             842              4.3x

Largest relative difference between the two kernels: 6e-11. First calls (compilation):
ours 0.3-2.5 s, neural-tangents 3-10 s. Small blocks include each image's own
recursion (2n images for n^2 entries) on both sides; at the experiment's n = 512 it
is negligible. Rerun on a quiet machine for the final numbers.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

#: (image side, depth, block side n: n x n entries per call).
FULL = [(16, 12, 8), (16, 96, 6), (28, 12, 4), (28, 96, 3)]
QUICK = [(16, 12, 4)]


def load_images(side, count, mnist, seed=0):
    """``count`` MNIST 0/1 images (the CNN task) resized to ``side``, or random."""
    rng = np.random.default_rng(seed)
    if mnist is not None and os.path.exists(mnist):
        from qntk_sklearn.datasets import resize_images

        data = np.load(mnist)
        images, labels = data["x_train"], data["y_train"]
        pick = rng.choice(np.flatnonzero(labels <= 1), size=count, replace=False)
        X = images[pick].astype(np.float64)
        if side != X.shape[1]:
            X = resize_images(X, side)
        X = (X - X.mean()) / X.std()
    else:
        X = rng.normal(size=(count, side, side))
    X = X / np.linalg.norm(X.reshape(count, -1), axis=1)[:, None, None]
    return X[..., None]


def load():
    try:
        return os.getloadavg()
    except OSError:  # pragma: no cover - not on this platform
        return None


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


def ours(side, depth, X, Y, repeats, n_jobs):
    from qntk_sklearn.kernels import MyrtleNTK

    k = MyrtleNTK(depth=depth, image_shape=(side, side, 1), n_jobs=n_jobs)
    return timed(lambda: k(X, Y), repeats)


def neural_tangents(side, depth, X, Y, repeats):
    import jax
    from neural_tangents import stax

    from qntk_sklearn.kernels._base import x64
    from qntk_sklearn.kernels._nt import myrtle_layers

    kernel_fn = stax.serial(*myrtle_layers(stax, depth, math.sqrt(2.0), 0.0))[2]
    fn = jax.jit(lambda a, b: kernel_fn(a, b, "ntk"))

    def compute():
        with x64():
            return np.asarray(fn(X, Y), dtype=np.float64)

    return timed(compute, repeats)


def run_side(backend, configs, repeats, mnist):
    """Time one backend on every configuration; rows of plain numbers."""
    rows = []
    for side, depth, n in configs:
        images = load_images(side, 2 * n, mnist)
        X, Y = images[:n], images[n:]
        variants = (
            [("ours_1_thread", 1), ("ours_all_cores", -1)]
            if backend == "ours"
            else [("neural_tangents", None)]
        )
        for name, jobs in variants:
            if backend == "ours":
                K, first, median, times = ours(side, depth, X, Y, repeats, jobs)
            else:
                K, first, median, times = neural_tangents(side, depth, X, Y, repeats)
            rows.append(
                dict(
                    side=side,
                    depth=depth,
                    n=n,
                    variant=name,
                    entries=n * n,
                    first_s=first,
                    median_s=median,
                    times_s=times,
                    entries_per_s=n * n / median,
                    s_per_entry=median / (n * n),
                    K=K.tolist(),
                    load=load(),
                )
            )
            print(
                f"{name:16s} {side}x{side} depth {depth}: "
                f"{median / (n * n) * 1e3:8.2f} ms per entry "
                f"(first call {first:.1f} s)",
                file=sys.stderr,
                flush=True,
            )
    return rows


def neural_tangents_side(nt_python, args):
    """Run this script under the neural-tangents interpreter; its rows, or None."""
    if nt_python is None:
        return None, "no --nt-python and no .venv-nt at the repository root"
    cmd = [
        str(nt_python),
        __file__,
        "--backend",
        "nt",
        "--repeats",
        str(args.repeats),
        "--mnist",
        str(args.mnist),
    ] + (["--quick"] if args.quick else [])
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        return None, done.stderr[-2000:]
    sys.stderr.write(done.stderr[-3000:])
    return json.loads(done.stdout), None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mnist", default=str(ROOT.parent / "shared" / "mnist.npz"))
    parser.add_argument("--backend", choices=["both", "ours", "nt"], default="both")
    default_nt = ROOT / ".venv-nt" / "bin" / "python"
    parser.add_argument(
        "--nt-python",
        default=str(default_nt) if default_nt.exists() else None,
        help="interpreter of the neural-tangents environment",
    )
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats = 1
    configs = QUICK if args.quick else FULL

    if args.backend == "nt":  # child: print rows as JSON on stdout
        json.dump(run_side("nt", configs, args.repeats, args.mnist), sys.stdout)
        return 0

    load_before = load()
    started = time.time()
    rows = run_side("ours", configs, args.repeats, args.mnist)
    nt_rows, nt_error = (None, "skipped (--backend ours)")
    if args.backend == "both":
        nt_rows, nt_error = neural_tangents_side(args.nt_python, args)
    summary = []
    for side, depth, n in configs:
        pick = {
            r["variant"]: r
            for r in rows + (nt_rows or [])
            if (r["side"], r["depth"]) == (side, depth)
        }
        line = dict(side=side, depth=depth, entries=n * n)
        for name, r in pick.items():
            line[f"{name}_ms_per_entry"] = 1e3 * r["s_per_entry"]
        nt = pick.get("neural_tangents")
        if nt is not None:
            K_nt = np.asarray(nt["K"])
            for name in ("ours_1_thread", "ours_all_cores"):
                line[f"speedup_{name}"] = nt["s_per_entry"] / pick[name]["s_per_entry"]
            line["max_rel_diff"] = float(
                np.max(np.abs(np.asarray(pick["ours_1_thread"]["K"]) / K_nt - 1))
            )
        summary.append(line)
    for r in rows + (nt_rows or []):
        r.pop("K")
    import numba

    from qntk_sklearn import __version__

    record = dict(
        question=(
            "Myrtle CNN NTK entries per second: native MyrtleNTK vs neural-tangents"
        ),
        date=datetime.datetime.fromtimestamp(started).isoformat(timespec="seconds"),
        command=" ".join([Path(sys.executable).name, *sys.argv]),
        machine=dict(
            platform=platform.platform(),
            processor=platform.processor() or None,
            cpu_count=os.cpu_count(),
        ),
        load_before=load_before,
        load_after=load(),
        versions=dict(
            qntk_sklearn=__version__, numpy=np.__version__, numba=numba.__version__
        ),
        quick=args.quick,
        summary=summary,
        runs=rows + (nt_rows or []),
        neural_tangents_error=nt_error,
    )
    out = args.out or str(
        ROOT
        / "benchmarks"
        / "results"
        / ("bench_cnn_kernel_quick.json" if args.quick else "bench_cnn_kernel.json")
    )
    with open(out, "w") as fh:
        json.dump(record, fh, indent=2)
        fh.write("\n")
    for line in summary:
        print(json.dumps(line))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
