"""How much memory and time does the emulated quantum solver (``QSVTSolver``) take on
an ill-conditioned kernel, and is an over-budget system refused before it allocates?

Data: 300 points of ``N(0, I_10)`` scaled to unit norm, labels ``x_0 > 0``; the exact
(``sparsity="none"``) fully connected NTK at depth 2 (condition number ~8.8e3) and
depth 1 (~1.0e5), the shallow end where the QSVT polynomial's degree
``O(kappa log(kappa / epsilon))`` is largest. Every configuration runs in a fresh
subprocess under an address-space cap (``--max-memory-gb``, default 8), so a runaway
allocation fails there with MemoryError instead of taking the machine down. The
kernel is computed and jax warmed up before measuring; ``fit_peak_rss`` is the
child's resident high-water mark during ``QSVTSolver().fit`` alone (reset just before
it) and ``fit_delta_rss`` that minus the resident size before; ``traced_peak`` the
tracemalloc peak of the same fit. ``epsilon = 1e-3`` (the default).

Configurations: depth 2 with the default degree budget (``max_degree = 1e6``); depth 1
with the default budget (expected: a ValueError naming kappa, the degree and the
remedies, raised before any allocation); depth 1 with ``max_degree = 4e6`` (the
polynomial built and applied: memory must stay bounded; full run only, ~2 minutes).

Last measured 2026-11-26 on a 2-core Intel Xeon VM (24 GiB, no GPU), machine shared
with other sessions (1-minute load 8 to 13: times are inflated), full run::

    depth  kappa    degree   budget  result      fit s  +fit MiB  traced MiB
    2      8.84e3   184709   1e6     ok          2.3    9         9.0
    1      1.00e5   (3.2e6)  1e6     ValueError  0.005  2         1.5
    1      1.00e5   2259443  4e6     ok          48.9   113       -

Before the fix (commit 4facd01, the same children and caps, solver-level fit): depth
2 took +655 MiB resident (traced 301 MiB: the sup-norm check's DCT on 64 (d + 1) =
1.2e7 points and the binomial tail arrays; 4.2 GB in issue 8's whole-estimator run on
another machine) in 5.4 s; depth 1 failed after 12.9 s with ``MemoryError:
std::bad_alloc`` under the 8 GiB cap (traced 2.5 GB by then; 24 GB and killed
without a cap).

Run ``python benchmarks/bench_qsvt_memory.py`` (about 3 minutes) or ``--quick``
(under a minute: the first two configurations).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "bench_qsvt_memory.json"


def _proc_status():
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("VmRSS", "VmHWM")):
                key, value = line.split(":")
                out[key] = int(value.split()[0]) * 1024  # bytes
    return out


def _reset_peak_rss():
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:  # pragma: no cover - not Linux
        return False


def run_child(cfg):
    import resource
    import tracemalloc

    limit = int(cfg["max_memory_gb"] * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    import numpy as np

    from qntk_sklearn.kernels import FullyConnectedNTK
    from qntk_sklearn.solvers import QSVTSolver

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 10))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    y = np.where(X[:, 0] > 0, 1.0, -1.0)
    y -= y.mean()
    K = FullyConnectedNTK(depth=cfg["depth"])(X)
    np.fill_diagonal(K, FullyConnectedNTK(depth=cfg["depth"]).diag(X))
    solver = QSVTSolver(max_degree=int(cfg["max_degree"]))
    out = {**cfg, "loadavg_1min": os.getloadavg()[0]}
    for traced in (False, True):
        rss_before = _proc_status()["VmRSS"]
        reset = _reset_peak_rss()
        if traced:
            tracemalloc.start()
        t0 = time.perf_counter()
        try:
            solver.fit(K, y)
            result = "ok"
        except ValueError as exc:
            result = f"ValueError: {exc}"
        except MemoryError as exc:
            result = f"MemoryError: {exc}"
        elapsed = time.perf_counter() - t0
        if traced:
            out["traced_peak"] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            break
        status = _proc_status()
        out.update(
            result=result,
            fit_s=elapsed,
            rss_before_fit=rss_before,
            fit_peak_rss=status["VmHWM"] if reset else None,
            fit_delta_rss=(status["VmHWM"] - rss_before) if reset else None,
        )
        if result == "ok":
            out.update(kappa=float(solver.kappa_), degree=int(solver.degree_))
        else:
            out["kappa"] = float(np.linalg.cond(K))
        if not cfg.get("traced", True):
            break
    print("RESULT " + json.dumps(out), flush=True)


def spawn(cfg, timeout):
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(cfg)]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    return {
        **cfg,
        "result": f"child failed (rc {proc.returncode})",
        "stderr": proc.stderr[-2000:],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=None)
    parser.add_argument("--max-memory-gb", type=float, default=8.0)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        run_child(json.loads(args.child))
        return 0
    configs = [
        {"depth": 2, "max_degree": 10**6},
        {"depth": 1, "max_degree": 10**6},
    ]
    if not args.quick:
        # Tracing 3.2e6 Clenshaw steps doubles a 2-minute run: untraced only.
        configs.append({"depth": 1, "max_degree": 4 * 10**6, "traced": False})
    rows = []
    for cfg in configs:
        cfg["max_memory_gb"] = args.max_memory_gb
        row = spawn(cfg, timeout=1800)
        rows.append(row)
        mib = (row.get("fit_delta_rss") or 0) / 2**20
        print(
            f"depth {row['depth']}  budget {row['max_degree']:.0e}  "
            f"kappa {row.get('kappa', float('nan')):.3g}  degree {row.get('degree')}  "
            f"fit {row.get('fit_s', float('nan')):.2f} s  +{mib:.0f} MiB  "
            f"{row['result'][:60]}",
            flush=True,
        )
    out = Path(args.out) if args.out else DEFAULT_OUT
    if args.quick and not args.out:
        out = out.with_name(out.stem + "_quick.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": "bench_qsvt_memory",
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "quick": args.quick,
        "results": rows,
    }
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
