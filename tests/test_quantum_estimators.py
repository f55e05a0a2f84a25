"""The quantum solvers inside the estimators: tuning, pickling, exactness, resources."""

import pickle

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from qntk_sklearn import QuantumNTKClassifier, QuantumNTKRegressor
from qntk_sklearn.solvers import (
    ExactSolver,
    IterativeSolver,
    PennyLaneSolver,
    QSVTSolver,
    QuantumResources,
)


def test_grid_search_over_shots_and_epsilon(digits_small):
    X, y = digits_small
    clf = QuantumNTKClassifier(depth=40, solver=QSVTSolver(), random_state=0)
    grid = GridSearchCV(
        clf,
        {"solver__shots": [50, None], "solver__epsilon": [1e-2, 1e-4]},
        cv=2,
    ).fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    best = grid.best_estimator_
    assert best.solver_.shots == grid.best_params_["solver__shots"]
    assert best.solver_.epsilon == grid.best_params_["solver__epsilon"]
    assert grid.best_score_ > 0.85
    # Fewer shots, noisier decisions: never better on average than exact readout here.
    scores = dict(
        zip(
            [
                (p["solver__shots"], p["solver__epsilon"])
                for p in grid.cv_results_["params"]
            ],
            grid.cv_results_["mean_test_score"],
            strict=True,
        )
    )
    assert scores[(None, 1e-4)] >= scores[(50, 1e-4)] - 0.02


@pytest.mark.parametrize("epsilon", [1e-2, 1e-5])
def test_exact_readout_equals_the_sparse_solve_within_epsilon(blobs, epsilon):
    # With shots=None the emulator returns k*^T P(K/alpha) y / x_scale, and
    # |P(x) - x_scale/x| <= eps * x_scale/|x| on the spectrum, so each decision value
    # is within eps * |k*| * |K^-1 y| of the exact one (Cauchy-Schwarz).
    # Query points outside the training set: a training point's own kernel value
    # exceeds the paper's clipping scale k_thresh and would be clipped (by design).
    X, y = blobs
    Xtr, ytr, Xte = X[:40], y[:40], X[40:]
    exact = QuantumNTKClassifier(depth=20, solver="exact", random_state=3)
    exact.fit(Xtr, ytr)
    quantum = QuantumNTKClassifier(
        depth=20, solver=QSVTSolver(epsilon=epsilon), random_state=3
    ).fit(Xtr, ytr)
    np.testing.assert_array_equal(quantum.kernel_.toarray(), exact.kernel_.toarray())
    K_star = exact.ntk_(Xte, Xtr)
    assert np.all(np.abs(K_star) < quantum.k_thresh_)  # nothing clipped
    bound = epsilon * np.linalg.norm(K_star, axis=1) * np.linalg.norm(exact.dual_coef_)
    diff = np.abs(quantum.decision_function(Xte) - exact.decision_function(Xte))
    assert np.all(diff <= bound * (1 + 1e-9))


@pytest.mark.parametrize(
    "solver",
    [
        ExactSolver(),
        IterativeSolver(),
        QSVTSolver(shots=500),
        PennyLaneSolver(shots=None, kappa=2.0),
    ],
    ids=["exact", "iterative", "qsvt", "pennylane"],
)
def test_fitted_model_with_each_solver_pickles_and_predicts_the_same(blobs, solver):
    X, y = blobs
    idx = np.r_[0:8, 30:38]  # 16 points of two classes: small enough for circuits
    X, y = X[idx], y[idx]
    clf = QuantumNTKClassifier(depth=40, solver=solver, random_state=0).fit(X, y)
    before = clf.decision_function(X)
    again = pickle.loads(pickle.dumps(clf))
    # Equal up to the rounding of the kernel's matrix product (BLAS may sum in another
    # order for differently aligned copies of the same arrays).
    np.testing.assert_allclose(again.decision_function(X), before, rtol=1e-9)
    assert isinstance(again.quantum_resources_, QuantumResources)
    assert again.quantum_resources_.n == 16
    assert again.score(X, y) >= 0.8


def test_shots_make_decisions_noisy_but_unbiased(blobs):
    X, y = blobs
    exact = QuantumNTKRegressor(depth=10, solver=QSVTSolver(), random_state=0)
    exact.fit(X, y.astype(float))
    target = exact.predict(X[:5])
    draws = np.array(
        [
            QuantumNTKRegressor(
                depth=10,
                solver=QSVTSolver(shots=200, random_state=seed),
                random_state=0,
            )
            .fit(X, y.astype(float))
            .predict(X[:5])
            for seed in range(40)
        ]
    )
    assert np.all(draws.std(axis=0) > 0)
    # Unbiased: the mean of 40 draws is within 4 standard errors of the exact value.
    sem = draws.std(axis=0, ddof=1) / np.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(axis=0) - target) <= 4 * sem + 1e-12)
