"""Fully-connected NTK on MNIST 8 vs 9: exact, sparsified, diagonal, emulated quantum,
and the dequantized (classical sampling) baseline.

Also the depth sweep (accuracy against kappa and the quantum query count).
"""

from __future__ import annotations

import copy
import math

import numpy as np
import scipy.sparse as sp

from .. import solvers as _solvers
from ..datasets import binary_pair, load_binary_mnist
from ..estimators import QuantumNTKClassifier
from ._common import (
    accuracy,
    log,
    measurement_counts,
    median_rule,
    query_count,
    recorded_warnings,
    resource_fields,
    sign_rule,
    timed,
)

#: The paper's digits for the fully-connected network.
FC_DIGITS = (8, 9)


def trial_seed(seed, n, trial):
    """Seed of one (n, trial) split; the same in every experiment (same splits)."""
    return int(seed) * 1_000_003 + 7919 * int(n) + int(trial)


def pair_data(data, digits):
    """Only the images of two digits (smaller to ship to worker processes)."""
    x_tr, y_tr = binary_pair(
        data["x_train"], data["y_train"], digits, labels="original"
    )
    x_te, y_te = binary_pair(data["x_test"], data["y_test"], digits, labels="original")
    return {"x_train": x_tr, "y_train": y_tr, "x_test": x_te, "y_test": y_te}


def qsvt_solver(shots, random_state):
    """The emulated quantum solver with finite shots, or None if not in this build."""
    cls = getattr(_solvers, "QSVTSolver", None)
    if cls is None:
        return None
    params = cls().get_params()
    kwargs = {}
    if "shots" in params:
        kwargs["shots"] = shots
    if "random_state" in params:
        kwargs["random_state"] = random_state
    return cls(**kwargs)


def dequantized_solver(samples, random_state):
    """The dequantized (classical sampling) baseline with ``samples`` per value."""
    return _solvers.DequantizedSolver(samples=samples, random_state=random_state)


def noise_diagnostics(est, K_star):
    """How a sampled solver's decisions compare with its own noiseless values.

    ``est.solver_`` is a QSVT solver with ``shots`` or the dequantized solver with
    ``samples``; a copy with infinitely many of them gives the noiseless values
    (the same polynomial, the same clipped ``k*``). Returns ``sign_agreement``
    (fraction of test points whose sampled decision has the noiseless sign),
    ``decision_rel_error`` (median ``|sampled - noiseless|`` over median
    ``|noiseless|``) and, for the dequantized solver, ``classical_queries`` per
    decision value.
    """
    solver = est.solver_
    exact_solver = copy.copy(solver)
    name = "samples" if hasattr(solver, "samples") else "shots"
    setattr(exact_solver, name, None)
    noisy = solver.decision_function(K_star)[:, 0]
    exact = exact_solver.decision_function(K_star)[:, 0]
    out = {
        "sign_agreement": float(np.mean(np.sign(noisy) == np.sign(exact))),
        "decision_rel_error": float(
            np.median(np.abs(noisy - exact)) / max(np.median(np.abs(exact)), 1e-300)
        ),
    }
    queries = getattr(solver, "classical_queries_", None)
    if queries is not None:
        out["classical_queries"] = float(queries["total"])
    return out


def _targets(est, y):
    Y = np.where(np.asarray(y) == est.classes_[-1], 1.0, -1.0)
    return Y - Y.mean()


def classical_cost(est, y):
    """What a classical Krylov solver spends on the same (sparse) system."""
    K = est.kernel_
    solver = _solvers.IterativeSolver(tol=1e-8)
    with recorded_warnings([]):
        solver.fit(K, _targets(est, y))
    nnz = int(K.nnz) if sp.issparse(K) else int(K.shape[0] ** 2)
    iterations = int(sum(solver.n_iter_))
    return {
        "cg_method": solver.method_,
        "cg_iterations": iterations,
        "nnz": nnz,
        "classical_flops": float(2 * nnz * iterations),
    }


def evaluate(
    est, X, y, X_test, y_test, *, base, method, K_star=None, measure=True, cost=True
):
    """Fit ``est``, score it with both decision rules and collect its diagnostics.

    Returns two run rows (the estimator's sign rule and the paper's median rule) and
    the test kernel (computed here from ``est.ntk_`` when ``K_star`` is None, so a
    trial computes it once and passes it on).
    """
    caught = []
    with recorded_warnings(caught):
        _, fit_time = timed(est.fit, X, y)
        scores, predict_time = timed(est.decision_function, X_test)
        row = dict(base)
        row.update(
            method=method,
            depth=est.depth_ if est.depth_ is not None else math.nan,
            fit_time=fit_time,
            predict_time=predict_time,
            kappa=float(est.condition_number_),
            sparsity=int(est.sparsity_),
            nnz=int(est.kernel_.nnz) if sp.issparse(est.kernel_) else X.shape[0] ** 2,
        )
        if measure:
            if K_star is None:
                K_star = (
                    X_test
                    if est.ntk_ is None
                    else np.asarray(est.ntk_(X_test, X), dtype=np.float64)
                )
            counts = measurement_counts(K_star, est.dual_coef_[:, 0], est.k_thresh_)
            row.update({key: float(np.median(v)) for key, v in counts.items()})
        if cost:
            row.update(classical_cost(est, y))
        fields = resource_fields(est)
        row.update(fields)
        row["queries"] = query_count(fields)
    row["n_warnings"] = len(caught)
    row["warnings"] = " | ".join(sorted(set(caught)))[:500]
    rows = []
    for rule, fn in (("sign", sign_rule), ("median(test)", median_rule)):
        r = dict(row)
        r["decision_rule"] = rule
        r["method"] = method if rule == "sign" else f"{method}_median_rule"
        r["accuracy"] = accuracy(y_test, fn(est, scores))
        rows.append(r)
    return rows, K_star


def fc_trial(data, n, trial, cfg):
    """One training/test split: every method of the FC experiment on it."""
    seed = trial_seed(cfg.seed, n, trial)
    X, y, X_test, y_test = load_binary_mnist(
        FC_DIGITS, n, cfg.n_test, data=data, random_state=seed
    )
    base = {"experiment": "fc", "n": n, "trial": trial}
    runs = []
    # The diagonal NTK is the cheapest fit; it resolves depth="auto" for the trial.
    diag = QuantumNTKClassifier(depth="auto", sparsity="diagonal", random_state=seed)
    rows, K_star = evaluate(diag, X, y, X_test, y_test, base=base, method="diagonal")
    runs += rows
    depth = int(diag.depth_)
    if n <= cfg.exact_max:
        exact = QuantumNTKClassifier(depth=depth, sparsity="none", solver="exact")
        rows, _ = evaluate(
            exact,
            X,
            y,
            X_test,
            y_test,
            base=base,
            method="exact",
            K_star=K_star,
            measure=False,
            cost=False,
        )
        runs += rows
    for p in range(cfg.patterns):
        est = QuantumNTKClassifier(
            depth=depth, sparsity="random", random_state=seed * 10 + p
        )
        rows, _ = evaluate(
            est,
            X,
            y,
            X_test,
            y_test,
            base=dict(base, pattern=p),
            method="sparse",
            K_star=K_star,
        )
        runs += rows
    solver = qsvt_solver(cfg.shots, seed)
    if solver is not None:
        est = QuantumNTKClassifier(
            depth=depth, sparsity="random", solver=solver, random_state=seed * 10
        )
        rows, _ = evaluate(
            est,
            X,
            y,
            X_test,
            y_test,
            base=dict(base, pattern=0),
            method=f"qsvt_{cfg.shots}shots",
            K_star=K_star,
            cost=False,
        )
        noise = noise_diagnostics(est, K_star)
        runs += [dict(r, **noise) for r in rows]
    est = QuantumNTKClassifier(
        depth=depth,
        sparsity="random",
        solver=dequantized_solver(cfg.shots, seed),
        random_state=seed * 10,
    )
    rows, _ = evaluate(
        est,
        X,
        y,
        X_test,
        y_test,
        base=dict(base, pattern=0),
        method=f"dequantized_{cfg.shots}samples",
        K_star=K_star,
        cost=False,
    )
    noise = noise_diagnostics(est, K_star)
    runs += [dict(r, **noise) for r in rows]
    log(f"fc n={n} trial={trial} depth={depth} done")
    return runs


def depth_trial(data, depth_setting, trial, cfg):
    """One split at ``cfg.depth_n``: exact, sparsified and diagonal NTK at one depth."""
    n = cfg.depth_n
    seed = trial_seed(cfg.seed, n, trial)
    X, y, X_test, y_test = load_binary_mnist(
        FC_DIGITS, n, cfg.n_test, data=data, random_state=seed
    )
    base = {
        "experiment": "depth",
        "n": n,
        "trial": trial,
        "depth_setting": str(depth_setting),
    }
    runs = []
    diag = QuantumNTKClassifier(depth=depth_setting, sparsity="diagonal")
    rows, K_star = evaluate(
        diag, X, y, X_test, y_test, base=base, method="diagonal", cost=False
    )
    runs += rows
    depth = int(diag.depth_)
    exact = QuantumNTKClassifier(depth=depth, sparsity="none", solver="exact")
    rows, _ = evaluate(
        exact,
        X,
        y,
        X_test,
        y_test,
        base=base,
        method="exact",
        K_star=K_star,
        measure=False,
        cost=False,
    )
    runs += rows
    for p in range(cfg.patterns):
        est = QuantumNTKClassifier(
            depth=depth, sparsity="random", random_state=seed * 10 + p
        )
        rows, _ = evaluate(
            est,
            X,
            y,
            X_test,
            y_test,
            base=dict(base, pattern=p),
            method="sparse",
            K_star=K_star,
        )
        runs += rows
    log(f"depth={depth_setting} ({depth}) trial={trial} done")
    return runs
