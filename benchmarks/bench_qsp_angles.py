"""How long do the QSVT phase angles of the inversion polynomial take, against degree?

Question: ``PennyLaneSolver`` needs the QSVT phase angles of the polynomial
``inverse_polynomial(kappa, epsilon)`` once per fit. The package computes them from the
Chebyshev coefficients with the symmetric-QSP Newton method of Dong, Lin, Ni and Wang
(``qntk_sklearn.solvers._angles``, then ``qml.transform_angles``); it used to call
``qml.poly_to_angles(monomial coefficients, "QSVT", angle_solver="iterative")``, which
was capped at degree 51. For degrees from 13 to ~2700 (kappa 1.5 to 200, epsilon
1e-2): wall time (median of ``--repeats``) and accuracy (largest error of the QSVT
response against the polynomial on ``2 d + 1`` points of [-1, 1], with the numpy
transcription of ``qml.QSVT``; at degrees <= 111 also checked with ``qml.matrix`` of
the actual ``qml.QSVT`` operator at 5 points), next to the old monomial route at the
degrees where it still runs (``--old-max-degree``, default 29; a minute per angle set
near degree 45).

Last measured 2 Dec 2026 on the 2-core x86-64 VM (no GPU), **shared with other jobs**
(1-minute load average 10.6 to 10.9 during the run, so times are inflated), one BLAS
thread, full run ``python benchmarks/bench_qsp_angles.py`` (median of 3; the old
route once); numbers in ``benchmarks/results/bench_qsp_angles.json``:

=====  ======  ===============  ===========  ====================  ==============
kappa  degree  Chebyshev-Newton  max error    old monomial route    its max error
=====  ======  ===============  ===========  ====================  ==============
1.5    13      0.7 ms           1.0e-15      1.4 s                 4.8e-11
3      29      1.3 ms           1.9e-15      3.7 s                 7.5e-09
10     111     9.1 ms           8.5e-15      (capped at 51)        --
30     361     71 ms            2.3e-14      --                    --
60     755     0.19 s           4.8e-14      --                    --
100    1297    0.63 s           7.7e-14      --                    --
200    2695    4.5 s            1.6e-13      --                    --
=====  ======  ===============  ===========  ====================  ==============

(epsilon = 1e-2 throughout.) At degrees <= 111 the angles also reproduce the
polynomial through ``qml.matrix`` of the actual ``qml.QSVT`` operator to 2.2e-15.
Cost: ``O(d^2)`` per Jacobian (vectorised over the ``d/2 + 1`` Chebyshev nodes) plus
one ``d/2 x d/2`` solve, about 6 Newton iterations: roughly quadratic to cubic in the
degree, a few seconds at degree ~2700.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"

FULL = [
    (1.5, 1e-2),
    (3.0, 1e-2),
    (10.0, 1e-2),
    (30.0, 1e-2),
    (60.0, 1e-2),
    (100.0, 1e-2),
    (200.0, 1e-2),
]
QUICK = [(1.5, 1e-2), (3.0, 1e-2), (10.0, 1e-2), (30.0, 1e-2)]


def _load():
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def _median_time(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), out


def _pennylane_check(angles, poly, points=5):
    """Largest error of ``qml.matrix(qml.QSVT(...))`` against the polynomial."""
    import pennylane as qml

    x = np.linspace(-0.95, 0.95, points)
    values = [
        qml.matrix(
            qml.QSVT(
                qml.BlockEncode(np.array([[v]]), wires=0),
                [qml.PCPhase(a, dim=1, wires=0) for a in angles],
            ),
            wire_order=[0],
        )[0, 0].real
        for v in x
    ]
    return float(np.max(np.abs(np.asarray(values) - poly(x))))


def run(cases, repeats, old_max_degree):
    import pennylane as qml

    from qntk_sklearn.kernels._base import x64
    from qntk_sklearn.solvers import inverse_polynomial
    from qntk_sklearn.solvers._angles import symmetric_qsp_phases
    from qntk_sklearn.solvers._pennylane import qsvt_response

    rows = []
    for kappa, epsilon in cases:
        poly = inverse_polynomial(kappa, epsilon)
        x = np.cos(np.linspace(0, np.pi, 2 * poly.degree + 1))

        def new(poly=poly):
            phases = symmetric_qsp_phases(poly.coef)
            return np.asarray(qml.transform_angles(phases, "QSP", "QSVT"))

        load = _load()
        seconds, angles = _median_time(new, repeats)
        row = {
            "kappa": kappa,
            "epsilon": epsilon,
            "degree": poly.degree,
            "chebyshev_newton_s": seconds,
            "chebyshev_newton_max_error": float(
                np.max(np.abs(qsvt_response(angles, x) - poly(x)))
            ),
            "load_1min": load,
        }
        if poly.degree <= 111:
            row["pennylane_circuit_max_error"] = _pennylane_check(angles, poly)
        if poly.degree <= old_max_degree:

            def old(poly=poly):
                with x64():
                    return np.asarray(
                        qml.poly_to_angles(
                            poly.power_coefficients(), "QSVT", angle_solver="iterative"
                        )
                    )

            seconds, old_angles = _median_time(old, 1)
            row["monomial_iterative_s"] = seconds
            row["monomial_iterative_max_error"] = float(
                np.max(np.abs(qsvt_response(old_angles, x) - poly(x)))
            )
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--old-max-degree", type=int, default=29)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    cases = QUICK if args.quick else FULL
    repeats = args.repeats or (1 if args.quick else 3)
    rows = run(cases, repeats, args.old_max_degree)
    name = "bench_qsp_angles" + ("_quick" if args.quick else "")
    out = Path(args.out) if args.out else RESULTS / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "question": __doc__.splitlines()[0],
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "load_1min_start": _load(),
        },
        "repeats": repeats,
        "rows": rows,
    }
    out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
