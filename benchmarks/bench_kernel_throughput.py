"""How fast is FullyConnectedNTK next to neural-tangents and to an RBF kernel?

Question: the time to compute the square float64 kernel matrix ``K(X, X)`` of ``n``
unit-norm MNIST rows (784 features; 8s and 9s, standardised with one global mean and
std, then ``x / |x|``: the paper's FC inputs) for the paper's network, ``depth x
[Dense, normalised erf] -> Dense(1)``, ``b_std = 0``, n in {1000, 4000}, depth in
{10, 100, 500}, by

* ours: ``FullyConnectedNTK(depth)(X)`` (unit-norm rows take the tabulated
  equal-norm path: O(1) per entry whatever the depth);
* ours, recursion: the same kernel on rows whose norms differ by 1e-6 relative, so
  every entry runs the layer recursion (what the fast path saves; n = 1000 only);
* neural-tangents 0.6.5: ``nt.batch(kernel_fn, batch_size=1000)`` of the same
  network written with ``stax.repeat`` (run in the neural-tangents environment, jax
  0.5.3, as a subprocess: ``--nt-python``);
* RBF: ``sklearn.metrics.pairwise.rbf_kernel(X)`` (gamma = 1/784), the classical
  kernel such a model is compared with.

Every timing is the median of ``--repeats`` warm calls; the first call (our table
build and XLA compilation; neural-tangents' compilation, done on the first 1000
rows) is reported apart. neural-tangents is capped: after its warm-up it gets at most
``--repeats`` timed calls and stops when the next would exceed ``--nt-budget``
seconds for that configuration, so n = 4000 at depth 500 (minutes per call) is timed
once. Everything runs on
one thread (one BLAS thread, XLA's CPU client single-threaded), so the comparison is
per core. The difference to neural-tangents off the diagonal (on the first 200 rows;
largest relative difference, and largest difference over the largest entry, since
entries near zero dominate the relative one) is the sanity check.

Run (from the repository root, core environment; the neural-tangents part runs in
``.venv-nt`` by default, ``--nt-python ''`` skips it)::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_kernel_throughput.py

``--quick``: n = 1000, depths 10 and 100, 2 repeats (about a minute).

Last numbers (2026-12-02, 18:00 UTC, 2-core AMD EPYC VM, no GPU, one thread, an
otherwise idle machine: load average 1.4 from the benchmark's own processes). Seconds,
medians of 3 warm calls (neural-tangents at n = 4000, depth 500: one call); build =
the table, first call only; recursion path in s::

    n     depth  ours    build    NT      RBF    NT/ours  ours/RBF  recursion
    1000  10     0.068    1.2 ms  0.35    0.023     5.2     2.94    0.134
    1000  100    0.061    6.5 ms  1.57    0.023    25.9     2.64    0.973
    1000  500    0.061   29.1 ms  6.43    0.023   105       2.65    4.78
    4000  10     0.691    1.2 ms  4.58    0.354     6.6     1.95
    4000  100    0.666    4.7 ms  22.4    0.354    33.6     1.88
    4000  500    0.720   23.2 ms  85.0    0.354   118       2.03

An earlier run on the shared machine (load 10.7-12.6) gave NT/ours 31 and 41 at depth
100 and ours/RBF 1.8-2.5.

Ours costs 42-68 ns per entry of the square matrix at every depth (about half of it
the inner products, which RBF needs too); the recursion path 10-13 ns per entry and
layer. Before the equal-norm path (commit 4facd01, on the shared machine) the same
matrices took 0.256 / 1.92 / 9.47 s (n = 1000; depth 10 / 100 / 500) and 3.82 /
19.98 s (n = 4000; depth 10 / 100). Off the diagonal ours
and neural-tangents differ by at most 3e-13 of the largest entry (1.3e-12 to 3.1e-12
relative, on entries near zero); against a 50-digit reference ours is within 1.5e-14
on the largest entries.

Backends, ns per element (idle run): float64 arcsin 1.46 numpy / 13.3 XLA, arctan2
2.82 / 12.7; the erf recursion 11.1 numpy / 20.2 jax per entry-layer, relu (with bias)
23.2 / 18.2 (jax faster there, but it compiles for ~1 s per new block shape, so numpy
stays); the table lookup 11.6 in one XLA loop / 72.5 as numpy passes.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# One thread everywhere (set before numpy and jax are imported).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MNIST = REPO.parent / "shared" / "mnist.npz"
DEFAULT_NT_PYTHON = REPO / ".venv-nt" / "bin" / "python"
#: Rows per neural-tangents tile (nt.batch): tiles of 1000 x 1000 entries.
NT_BATCH = 1000
#: Rows of each matrix compared between ours and neural-tangents.
COMPARED_ROWS = 200


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
    """``(out, first_s, median_s, times)``: one first call, then ``repeats`` more."""
    start = time.perf_counter()
    out = fn()
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return out, first, statistics.median(times), times


# --- neural-tangents (subprocess in the jax < 0.6 environment) ---------------------
def nt_worker(spec_path):
    """Time neural-tangents on every configuration of ``spec_path`` (JSON)."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import neural_tangents as nt
    from neural_tangents import stax

    spec = json.loads(Path(spec_path).read_text())
    X_all = np.load(spec["inputs"])
    W = spec["W_std"]
    results, samples = [], {}
    for depth in spec["depths"]:
        dense = stax.Dense(512, W_std=W, b_std=0.0)
        hidden = [dense, stax.Erf()]
        if depth > 1:
            block = stax.serial(stax.Dense(512, W_std=W, b_std=0.0), stax.Erf())
            hidden.append(stax.repeat(block, depth - 1))
        kernel_fn = stax.serial(*hidden, stax.Dense(1, W_std=W, b_std=0.0))[2]
        batched = nt.batch(kernel_fn, batch_size=NT_BATCH, store_on_device=False)

        def compute(X, batched=batched):
            return np.asarray(batched(X, None, "ntk"), dtype=np.float64)

        start = time.perf_counter()
        compute(X_all[:NT_BATCH])  # compiles the 1000 x 1000 tile
        compile_s = time.perf_counter() - start
        for n in spec["sizes"]:
            X = X_all[:n]
            times = []  # warm already: every call counts, while the budget lasts
            while len(times) < spec["repeats"] and (
                not times or sum(times) + times[-1] <= spec["budget"]
            ):
                start = time.perf_counter()
                K = compute(X)
                times.append(time.perf_counter() - start)
            median = statistics.median(times)
            results.append(
                dict(
                    n=n,
                    depth=depth,
                    nt_compile_s=compile_s,
                    nt_median_s=median,
                    nt_times_s=times,
                )
            )
            samples[f"{n}_{depth}"] = K[:COMPARED_ROWS]
            print(f"  NT n={n} depth={depth}: {median:.3f} s", flush=True)
    np.savez(spec["samples"], **samples)
    Path(spec["results"]).write_text(
        json.dumps(
            dict(rows=results, neural_tangents=nt.__version__, jax=jax.__version__)
        )
    )


def run_neural_tangents(nt_python, X, sizes, depths, repeats, budget, W_std):
    """Run :func:`nt_worker` in ``nt_python``; ``(rows, samples, versions)`` or None."""
    if not nt_python or not Path(nt_python).exists():
        print(f"neural-tangents interpreter {nt_python!r} not found: skipping it")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        np.save(tmp / "inputs.npy", X)
        spec = dict(
            inputs=str(tmp / "inputs.npy"),
            sizes=sizes,
            depths=depths,
            repeats=repeats,
            budget=budget,
            W_std=W_std,
            samples=str(tmp / "samples.npz"),
            results=str(tmp / "results.json"),
        )
        (tmp / "spec.json").write_text(json.dumps(spec))
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", JAX_PLATFORMS="cpu")
        proc = subprocess.run(
            [str(nt_python), __file__, "--nt-worker", str(tmp / "spec.json")],
            env=env,
            cwd=REPO,
        )
        if proc.returncode != 0:
            print("neural-tangents run failed: skipping it")
            return None
        result = json.loads((tmp / "results.json").read_text())
        with np.load(tmp / "samples.npz") as data:
            samples = {key: data[key] for key in data.files}
    return result["rows"], samples, result


# --- backends: where each part of the work is fastest ------------------------------
def _per_element(fn, size, repeats=5):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) / size * 1e9


def _numpy_lookup(table, rho):
    """The table lookup of ``_fc_sphere._evaluate`` written as numpy array passes."""
    from qntk_sklearn.kernels import _fc_sphere as S

    P, M = S.PIECES_PER_OCTAVE, S.MIDDLE_PIECES
    r = np.clip(rho, -1.0, 1.0)
    a = np.abs(r)
    g = 1.0 - a
    mantissa, exponent = np.frexp(g)
    tail = g < 0.5
    t = (mantissa - 0.5) * (2 * P)
    sub = np.clip(t.astype(np.int64), 0, P - 1)
    piece = (exponent + S._OCTAVES) * P + sub
    x = 2.0 * (t - sub) - 1.0
    u = a * (2 * M)  # the odd (erf, b_std = 0) table
    sub_m = np.clip(u.astype(np.int64), 0, M - 1)
    piece = np.clip(np.where(tail, piece, S._OCTAVES * P + sub_m), 0, None)
    x = np.where(tail, x, 2.0 * (u - sub_m) - 1.0)
    C = table.coefficients
    value = C[-1][piece]
    for k in range(C.shape[0] - 2, -1, -1):
        value = C[k][piece] + x * value
    value = np.where(tail, value, value * a)
    return np.where(r < 0, -value, value)


def measure_backends():
    """ns per element of the float64 work, numpy vs jax (XLA) on this CPU."""
    import jax
    import jax.numpy as jnp

    from qntk_sklearn.kernels import FullyConnectedNTK, default_W_std
    from qntk_sklearn.kernels._base import x64
    from qntk_sklearn.kernels._fc_engine import sphere_table

    size = 1 << 20
    rng = np.random.default_rng(0)
    z = rng.uniform(-0.99, 0.99, size)
    out = {}
    with x64():
        zj = jnp.asarray(z)
        for name, f_np, f_jax in (
            ("arcsin", np.arcsin, jnp.arcsin),
            ("arctan2", lambda v: np.arctan2(v, 0.5), lambda v: jnp.arctan2(v, 0.5)),
            ("sqrt", lambda v: np.sqrt(v + 1.0), lambda v: jnp.sqrt(v + 1.0)),
        ):
            jitted = jax.jit(f_jax)
            out[f"{name}_numpy_ns"] = _per_element(lambda f=f_np: f(z), size)
            out[f"{name}_jax_ns"] = _per_element(
                lambda g=jitted: g(zj).block_until_ready(), size
            )
    # The layer recursion (rows of distinct norms), numpy and jax backends.
    X = rng.normal(size=(400, 784))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    X *= np.sqrt(1.0 + 1e-6 * np.arange(len(X)))[:, None]
    depth = 20
    for activation, b_std in (("erf", 0.0), ("relu", 0.1)):
        for backend in ("numpy", "jax"):
            k = FullyConnectedNTK(depth, activation, b_std=b_std)
            k._backend = backend
            ns = _per_element(lambda k=k: k(X), len(X) ** 2 * depth, repeats=3)
            out[f"recursion_{activation}_{backend}_ns_per_entry_layer"] = ns
    # The table lookup: one fused XLA loop vs the same steps as numpy passes.
    W2 = default_W_std("erf") ** 2
    table = sphere_table("erf", "ntk", 100, W2, 0.0, W2 / 784)
    rho = rng.uniform(-1, 1, size)
    rho[: size // 2] = 1 - np.exp(rng.uniform(-36, -1, size // 2))
    out["table_lookup_xla_ns"] = _per_element(lambda: table(rho), size)
    out["table_lookup_numpy_ns"] = _per_element(
        lambda: _numpy_lookup(table, rho), size, repeats=3
    )
    assert np.allclose(_numpy_lookup(table, rho[:1000]), table(rho[:1000]), rtol=1e-12)
    return out


# --- ours and RBF --------------------------------------------------------------------
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="n=1000, depths 10 and 100"
    )
    parser.add_argument("--mnist", default=str(DEFAULT_MNIST), help="path to mnist.npz")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000])
    parser.add_argument("--depths", type=int, nargs="+", default=[10, 100, 500])
    parser.add_argument("--nt-python", default=str(DEFAULT_NT_PYTHON))
    parser.add_argument(
        "--nt-budget", type=float, default=120.0, help="seconds of NT calls per config"
    )
    parser.add_argument("--out", default=None)
    parser.add_argument("--nt-worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.nt_worker:
        return nt_worker(args.nt_worker)

    import jax
    import sklearn
    from sklearn.metrics.pairwise import rbf_kernel

    from qntk_sklearn.kernels import FullyConnectedNTK, default_W_std
    from qntk_sklearn.kernels._fc_sphere import SphereTable

    if args.quick:
        sizes, depths, repeats = [1000], [10, 100], 2
    else:
        sizes, depths, repeats = args.sizes, args.depths, args.repeats
    out = args.out or (
        "benchmarks/results/kernel_throughput"
        + ("_quick" if args.quick else "")
        + ".json"
    )
    mnist = args.mnist if os.path.exists(args.mnist) else None
    if mnist is None:
        print(f"{args.mnist} not found: using random unit-norm inputs", flush=True)
    X_all = load_inputs(max(sizes), mnist)
    W = default_W_std("erf")

    print("neural-tangents (subprocess):", flush=True)
    nt_result = run_neural_tangents(
        args.nt_python, X_all, sizes, depths, repeats, args.nt_budget, W
    )
    nt_rows = {(r["n"], r["depth"]): r for r in (nt_result[0] if nt_result else [])}

    print("backends (ns per element, one thread):", flush=True)
    backends = measure_backends()
    for key, value in backends.items():
        print(f"  {key:45s} {value:7.2f}", flush=True)

    rows = []
    for n in sizes:
        X = X_all[:n]
        _, rbf_first, rbf_median, rbf_times = timed(lambda X=X: rbf_kernel(X), repeats)
        # Norms 1 + 1e-6 i: no two rows share a norm, every entry runs the recursion.
        X_rec = X * np.sqrt(1.0 + 1e-6 * np.arange(n))[:, None]
        for depth in depths:
            start = time.perf_counter()
            SphereTable("erf", "ntk", depth, W * W, 0.0, W * W / X.shape[1])
            build_s = time.perf_counter() - start
            kernel = FullyConnectedNTK(depth=depth)
            K, first, median, times = timed(lambda X=X, k=kernel: k(X), repeats)
            row = dict(
                n=n,
                depth=depth,
                block="square K(X, X)",
                ours_table_build_s=build_s,
                ours_first_s=first,
                ours_median_s=median,
                ours_times_s=times,
                ours_ns_per_entry=median / n**2 * 1e9,
                rbf_median_s=rbf_median,
                rbf_times_s=rbf_times,
                ours_over_rbf=median / rbf_median,
            )
            if n <= 1000:
                _, _, rec_median, rec_times = timed(
                    lambda k=kernel, X_rec=X_rec: k(X_rec), max(1, repeats - 1)
                )
                row.update(
                    ours_recursion_median_s=rec_median,
                    ours_recursion_times_s=rec_times,
                    ours_recursion_ns_per_entry_layer=rec_median / n**2 / depth * 1e9,
                )
            nt_row = nt_rows.get((n, depth))
            if nt_row is not None:
                K_nt = nt_result[1][f"{n}_{depth}"]
                rows_c = min(COMPARED_ROWS, n)
                off = ~np.eye(rows_c, n, dtype=bool)
                diff = np.abs(K[:rows_c] - K_nt)
                with np.errstate(divide="ignore", invalid="ignore"):
                    rel = diff / np.abs(K_nt)  # inf/nan: NT's diagonal overflowed
                row.update(
                    {k: v for k, v in nt_row.items() if k not in ("n", "depth")},
                    nt_over_ours=nt_row["nt_median_s"] / median,
                    max_rel_diff_offdiag=float(rel[off].max()),
                    # Relative to the largest off-diagonal entry: the relative one
                    # is set by entries near zero (an odd kernel at rho ~ 0).
                    max_diff_offdiag_over_max_entry=float(
                        diff[off].max() / np.abs(K_nt[off]).max()
                    ),
                    max_rel_diff_diag=float(rel[~off].max()),
                )
            rows.append(row)
            print(
                f"n={n:5d} depth={depth:3d}  ours {median:7.3f} s"
                f" (build {build_s * 1e3:5.1f} ms)  RBF {rbf_median:7.3f} s"
                f"  ours/RBF {row['ours_over_rbf']:5.2f}"
                + (
                    f"  NT {row['nt_median_s']:8.2f} s"
                    f"  NT/ours {row['nt_over_ours']:6.1f}"
                    f"  max rel diff off-diag {row['max_rel_diff_offdiag']:.1e}"
                    if "nt_median_s" in row
                    else ""
                )
                + (
                    f"  recursion {row['ours_recursion_median_s']:.3f} s"
                    if "ours_recursion_median_s" in row
                    else ""
                ),
                flush=True,
            )

    try:
        load = os.getloadavg()
    except OSError:  # pragma: no cover - not on every platform
        load = None
    result = dict(
        question=(
            "Square float64 kernel matrix K(X, X) of n unit-norm MNIST rows: "
            "FullyConnectedNTK vs neural-tangents kernel_fn vs sklearn rbf_kernel"
        ),
        date=datetime.datetime.now().isoformat(timespec="seconds"),
        machine=dict(
            platform=platform.platform(),
            processor=platform.processor() or platform.machine(),
            cpu_count=os.cpu_count(),
            load_average_at_end=load,
            threads="one (OPENBLAS_NUM_THREADS=1, XLA CPU single-threaded)",
            python=sys.version.split()[0],
            jax=jax.__version__,
            numpy=np.__version__,
            scikit_learn=sklearn.__version__,
            nt_environment=(
                {k: nt_result[2][k] for k in ("neural_tangents", "jax")}
                if nt_result
                else None
            ),
        ),
        inputs="MNIST 8 vs 9, standardised, unit norm" if mnist else "random unit norm",
        network="depth x [Dense, erf] -> Dense(1), W_std = 1/sqrt(E[erf^2]), b_std = 0",
        repeats=repeats,
        nt_budget_s=args.nt_budget,
        quick=args.quick,
        backends_ns=backends,
        rows=rows,
    )
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    print(f"wrote {path}  (load average {load})")


if __name__ == "__main__":
    main()
