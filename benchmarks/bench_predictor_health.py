"""Does the predictor give numbers that can be trusted, on the cases of issue 8?

Each case is a situation in which the estimators used to give a silently wrong or
useless answer; the script measures what they give now (accuracy, R^2, the warning or
error raised), on scikit-learn's data sets, ``random_state=0`` everywhere:

* ``duplicate``: 40 training points of ``make_classification(240, random_state=0)``
  with row 5 a copy of row 4, the classifier's defaults; accuracy on the other 200.
* ``diabetes``: 5-fold cross-validated R^2 of ``QuantumNTKRegressor()`` and of the
  paper's regime (``depth="auto", sparsity="random", diag_reg=0``).
* ``calibration``: breast cancer (``StandardScaler``, ``Normalizer``, 426 / 143
  stratified split), ``CalibratedClassifierCV(QuantumNTKClassifier(random_state=0),
  method="sigmoid")``: accuracy, distinct probabilities, and the uncalibrated accuracy.
* ``circles``: ``make_circles(400, noise=0.05, factor=0.5)``, exact kernel at depth 4
  (``diag_reg=1e-3``), ``b_std`` 0 and 0.5.
* ``depth_cap``, ``underflow``: the time to refuse ``depth=10**6`` and the error for
  inputs scaled by 1e-170.

Last measured 2026-11-26 on a 2-core Intel Xeon VM (24 GiB), machine shared (load
~10), against commit 4facd01 (before) with the same cases::

    case          before                                after
    duplicate     acc 0.495, all decisions 0.0, silent  acc 0.795, SingularSystemWarning
                                                        naming rows 4 and 5 and the fix
    diabetes      R^2 -0.001 (defaults)                 R^2 0.489 (defaults); paper's
                                                        regime -0.001, with a warning
    calibration   acc 0.629 (uncal. 0.916), 2 distinct  acc 0.916, 143 distinct (of 143)
    circles       b_std 0: 0.47 (odd network, chance)   b_std 0.5: 1.0 (documented)
    depth_cap     depth=10**6 ran for minutes           ValueError in < 0.1 s
    underflow     warning about "duplicate points"      ValueError naming the underflow

Run ``python benchmarks/bench_predictor_health.py`` (about a minute; ``--quick`` is
the same run).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "bench_predictor_health.json"


def _caught(fn):
    """Run ``fn``; return its value and the (category, message) of every warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = fn()
    return value, [(w.category.__name__, str(w.message)[:300]) for w in caught]


def duplicate():
    from sklearn.datasets import make_classification

    from qntk_sklearn import QuantumNTKClassifier

    X, y = make_classification(n_samples=240, random_state=0)
    clean = QuantumNTKClassifier(random_state=0).fit(X[:40], y[:40])
    X_train, y_train = X[:40].copy(), y[:40].copy()
    X_train[5], y_train[5] = X_train[4], y_train[4]
    clf, caught = _caught(
        lambda: QuantumNTKClassifier(random_state=0).fit(X_train, y_train)
    )
    decisions = clf.decision_function(X[40:])
    return {
        "accuracy_without_duplicate": clean.score(X[40:], y[40:]),
        "accuracy": clf.score(X[40:], y[40:]),
        "depth_": clf.depth_,
        "decision_spread": float(np.ptp(decisions)),
        "warnings": caught,
    }


def diabetes():
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import KFold, cross_val_score

    from qntk_sklearn import QuantumNTKRegressor

    X, y = load_diabetes(return_X_y=True)
    cv = KFold(5, shuffle=True, random_state=0)
    default = cross_val_score(QuantumNTKRegressor(), X, y, cv=cv).mean()
    paper = QuantumNTKRegressor(
        depth="auto", sparsity="random", diag_reg=0.0, random_state=0
    )
    paper_r2, caught = _caught(lambda: cross_val_score(paper, X, y, cv=cv).mean())
    return {
        "r2_defaults": float(default),
        "r2_paper_regime": float(paper_r2),
        "paper_regime_warnings": sorted({c for c, _ in caught}),
    }


def calibration():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import Normalizer, StandardScaler

    from qntk_sklearn import QuantumNTKClassifier

    X, y = load_breast_cancer(return_X_y=True)
    X = Normalizer().fit_transform(StandardScaler().fit_transform(X))
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0, stratify=y)
    base = QuantumNTKClassifier(random_state=0).fit(X_tr, y_tr)
    cal = CalibratedClassifierCV(
        QuantumNTKClassifier(random_state=0), method="sigmoid"
    ).fit(X_tr, y_tr)
    proba = cal.predict_proba(X_te)[:, 1]
    return {
        "accuracy_uncalibrated": base.score(X_te, y_te),
        "accuracy_calibrated": cal.score(X_te, y_te),
        "distinct_probabilities": int(np.unique(proba.round(8)).size),
        "decision_scale_": base.decision_scale_,
    }


def circles():
    from sklearn.datasets import make_circles
    from sklearn.model_selection import train_test_split

    from qntk_sklearn import QuantumNTKClassifier

    X, y = make_circles(n_samples=400, noise=0.05, factor=0.5, random_state=0)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0)
    out = {}
    for b in (0.0, 0.5):
        clf = QuantumNTKClassifier(depth=4, sparsity="none", diag_reg=1e-3, b_std=b)
        out[f"accuracy_b_std_{b}"] = clf.fit(X_tr, y_tr).score(X_te, y_te)
    return out


def refusals():
    from sklearn.datasets import make_classification

    from qntk_sklearn import QuantumNTKClassifier

    X, y = make_classification(n_samples=60, random_state=0)
    out = {}
    for name, fn in (
        ("depth_cap", lambda: QuantumNTKClassifier(depth=10**6).fit(X, y)),
        ("underflow", lambda: QuantumNTKClassifier(depth=10).fit(X * 1e-170, y)),
    ):
        start = time.perf_counter()
        try:
            fn()
            message = None
        except ValueError as exc:
            message = str(exc)[:300]
        out[name] = {"seconds": time.perf_counter() - start, "error": message}
    return out


CASES = {
    "duplicate": duplicate,
    "diabetes": diabetes,
    "calibration": calibration,
    "circles": circles,
    "refusals": refusals,
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the same run")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    results = {}
    for name, fn in CASES.items():
        start = time.perf_counter()
        results[name] = fn()
        results[name]["case_seconds"] = time.perf_counter() - start
        print(name, json.dumps(results[name], default=float)[:400], flush=True)
    out = Path(args.out) if args.out else DEFAULT_OUT
    if args.quick and not args.out:
        out = out.with_name(out.stem + "_quick.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": "bench_predictor_health",
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_1min": os.getloadavg()[0],
        },
        "results": results,
    }
    out.write_text(json.dumps(record, indent=2, default=float) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
