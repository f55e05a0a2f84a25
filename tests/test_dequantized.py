"""The dequantized baseline: an unbiased Monte-Carlo estimate of the QSVT decision.

Statistics: one sample ``X`` of a decision value has some variance ``sigma^2`` (finite:
the walk weights are bounded), so the mean of ``S`` samples has error of order
``sigma / sqrt(S)``. With 120 query rows the mean absolute error over rows is known
to about 7% (its relative standard error is ~ 0.76 / sqrt(120)), so a 16-fold
increase of ``S`` must shrink it by ``4 = sqrt(16)`` within a factor 1.6.
"""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp

from qntk_sklearn import QuantumNTKClassifier
from qntk_sklearn.solvers import DequantizedSolver, QSVTSolver


def near_diagonal(n, seed=0, off=0.08, per_row=3):
    """Symmetric sparse matrix, diagonal in [0.8, 1], ~per_row small off-diagonals."""
    rng = np.random.default_rng(seed)
    m = per_row * n // 2
    rows, cols = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = rows != cols
    E = sp.coo_matrix(
        (rng.uniform(-off, off, keep.sum()), (rows[keep], cols[keep])), shape=(n, n)
    )
    return sp.csr_matrix(E + E.T + sp.diags(rng.uniform(0.8, 1.0, n)))


@pytest.fixture(scope="module")
def system():
    n = 300
    K = near_diagonal(n)
    rng = np.random.default_rng(1)
    Y = np.sign(rng.normal(size=(n, 2)))
    Y -= Y.mean(axis=0)
    K_star = rng.uniform(-0.3, 0.6, size=(120, n))  # query rows, below k_thresh
    exact = QSVTSolver(epsilon=0.05).fit(K, Y, k_thresh=1.0).decision_function(K_star)
    return K, Y, K_star, exact


def test_exact_expectation_is_the_qsvt_value(system):
    K, Y, K_star, exact = system
    d = DequantizedSolver(epsilon=0.05, samples=None).fit(K, Y, k_thresh=1.0)
    np.testing.assert_allclose(d.decision_function(K_star), exact, rtol=1e-12)
    assert not d._stochastic and DequantizedSolver()._stochastic


def test_error_shrinks_like_one_over_sqrt_samples(system):
    K, Y, K_star, exact = system
    errors = []
    for samples in (64, 1024, 16384):
        d = DequantizedSolver(epsilon=0.05, samples=samples, random_state=0)
        est = d.fit(K, Y, k_thresh=1.0).decision_function(K_star)
        errors.append(np.mean(np.abs(est - exact)))
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all((ratios > 4 / 1.6) & (ratios < 4 * 1.6)), (errors, ratios)


def test_unbiased_over_seeds(system):
    K, Y, K_star, exact = system
    draws = np.array(
        [
            DequantizedSolver(epsilon=0.05, samples=200, random_state=seed)
            .fit(K, Y, k_thresh=1.0)
            .decision_function(K_star[:10])
            for seed in range(30)
        ]
    )
    sem = draws.std(axis=0, ddof=1) / np.sqrt(len(draws))
    z = (draws.mean(axis=0) - exact[:10]) / sem
    # 20 z-scores of a correct estimator: |z| > 4.5 has probability ~1e-4 in total.
    assert np.all(np.abs(z) < 4.5), z


def test_query_count_does_not_depend_on_n():
    counts = []
    for n in (200, 2000):
        K = near_diagonal(n, seed=n, off=0.02)
        y = np.sign(np.random.default_rng(n).normal(size=n))
        d = DequantizedSolver(epsilon=1e-3, samples=500, random_state=0)
        d.fit(K, y - y.mean())
        counts.append(d.classical_queries_)
        assert d.degree_ <= 31
        c = d.classical_queries_
        assert c["row_samples"] == 500 * d.degree_
        assert c["total"] == c["k_samples"] + c["row_samples"] + c["y_queries"]
        assert d.classical_cost_["queries_per_value"] == c["total"]
    # The polynomial depends on kappa only; the same degree gives the same count.
    if counts[0]["walk_length"] == counts[1]["walk_length"]:
        assert counts[0] == counts[1]


def test_reproducible_batch_independent_and_picklable(system):
    K, Y, K_star, _ = system
    d = DequantizedSolver(epsilon=0.05, samples=300, random_state=3).fit(
        K, Y, k_thresh=1.0
    )
    full = d.decision_function(K_star[:20])
    np.testing.assert_array_equal(full, d.decision_function(K_star[:20]))
    np.testing.assert_array_equal(full[5:9], d.decision_function(K_star[5:9]))
    again = pickle.loads(pickle.dumps(d))
    np.testing.assert_array_equal(full, again.decision_function(K_star[:20]))


def test_errors():
    K = near_diagonal(20)
    y = np.ones(20)
    with pytest.raises(ValueError, match=r"degree \d+, above `max_degree`=3"):
        DequantizedSolver(kappa=4.0, max_degree=3).fit(K, y)
    with pytest.raises(ValueError, match="'samples' parameter"):
        DequantizedSolver(samples=0).fit(K, y)
    d = DequantizedSolver().fit(K, y)
    with pytest.raises(ValueError, match=r"`K_star` must have shape \(n_queries, 20\)"):
        d.decision_function(np.ones((2, 3)))


def test_in_an_estimator(blobs):
    X, y = blobs
    exact = QuantumNTKClassifier(depth=40, solver="exact", random_state=0).fit(X, y)
    clf = QuantumNTKClassifier(
        depth=40, solver=DequantizedSolver(samples=2000), random_state=0
    ).fit(X, y)
    assert clf.get_params()["solver__samples"] == 2000
    assert clf.__sklearn_tags__().non_deterministic
    agree = np.mean(clf.predict(X) == exact.predict(X))
    assert agree >= 0.9
    assert clf.quantum_resources_.solver == "DequantizedSolver"
    assert clf.solver_.classical_queries_["samples"] == 2000


def test_finite_time_is_the_qsvt_time_polynomial(system):
    # The estimators pass `t` to every solver: the dequantized one samples the same
    # bounded polynomial of (1 - exp(-t x)) / x that QSVTSolver applies.
    K, Y, K_star, _ = system
    qsvt = QSVTSolver(epsilon=0.05).fit(K, Y, k_thresh=1.0, t=0.5)
    d = DequantizedSolver(epsilon=0.05, samples=None).fit(K, Y, k_thresh=1.0, t=0.5)
    assert d.time_ == 0.5 and d.degree_ == qsvt.degree_
    np.testing.assert_allclose(
        d.decision_function(K_star), qsvt.decision_function(K_star), rtol=1e-10
    )
    with pytest.raises(ValueError, match=r"t \* alpha=.*use a smaller `t`"):
        DequantizedSolver(max_degree=3).fit(K, Y, k_thresh=1.0, t=50.0)


def test_by_name_in_an_estimator(blobs):
    X, y = blobs
    clf = QuantumNTKClassifier(depth=40, solver="dequantized", random_state=0)
    clf.fit(X, y)
    assert type(clf.solver_).__name__ == "DequantizedSolver"
    assert clf.__sklearn_tags__().non_deterministic
    timed = QuantumNTKClassifier(
        depth=40, solver="dequantized", t=0.005, random_state=0
    )
    assert timed.fit(X, y).solver_.time_ is not None
