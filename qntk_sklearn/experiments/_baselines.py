"""Classical baselines on the FC experiment's splits: SVCs, an MLP, the exact NTK."""

from __future__ import annotations

import math

from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.svm import SVC

from ..datasets import load_binary_mnist
from ..estimators import QuantumNTKClassifier
from ..kernels import FullyConnectedNTK
from ._common import accuracy, log, recorded_warnings, timed
from ._fc import FC_DIGITS, trial_seed

#: Grid of the RBF SVC (inputs have unit norm, so gamma ~ 1 is the natural scale).
RBF_GRID = {"C": [1.0, 10.0, 100.0], "gamma": [0.5, 1.0, 2.0, 4.0]}


def _run(est, X, y, X_test, y_test, base, method, **extra):
    caught = []
    with recorded_warnings(caught):
        _, fit_time = timed(est.fit, X, y)
        y_pred, predict_time = timed(est.predict, X_test)
    row = dict(
        base,
        method=method,
        decision_rule="sign",
        accuracy=accuracy(y_test, y_pred),
        fit_time=fit_time,
        predict_time=predict_time,
        n_warnings=len(caught),
        warnings=" | ".join(sorted(set(caught)))[:500],
    )
    row.update(extra)
    return row


def baseline_trial(data, n, trial, cfg):
    """Every baseline on the (n, trial) split of the FC experiment."""
    seed = trial_seed(cfg.seed, n, trial)
    X, y, X_test, y_test = load_binary_mnist(
        FC_DIGITS, n, cfg.n_test, data=data, random_state=seed
    )
    base = {"experiment": "baselines", "n": n, "trial": trial}
    runs = []
    exact = QuantumNTKClassifier(depth="auto", sparsity="none", solver="exact")
    row = _run(exact, X, y, X_test, y_test, base, "exact_ntk")
    row.update(depth=exact.depth_, kappa=float(exact.condition_number_))
    runs.append(row)
    depth = int(exact.depth_)
    svc_ntk = SVC(kernel=FullyConnectedNTK(depth=depth))
    runs.append(_run(svc_ntk, X, y, X_test, y_test, base, "svc_ntk", depth=depth))
    folds = min(3, n // 2)
    grid = GridSearchCV(
        SVC(kernel="rbf"),
        RBF_GRID,
        cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
    )
    row = _run(grid, X, y, X_test, y_test, base, "svc_rbf")
    row.update(best_C=grid.best_params_["C"], best_gamma=grid.best_params_["gamma"])
    runs.append(row)
    mlp = MLPClassifier(
        hidden_layer_sizes=(256,), max_iter=cfg.mlp_max_iter, random_state=seed
    )
    runs.append(_run(mlp, X, y, X_test, y_test, base, "mlp", depth=1))
    for r in runs:
        r.setdefault("kappa", math.nan)
        r.setdefault("depth", math.nan)
    log(f"baselines n={n} trial={trial} done")
    return runs
