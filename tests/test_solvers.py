"""Classical solvers and spectral estimates against numpy.linalg oracles."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.exceptions import ConvergenceWarning

from qntk_sklearn.solvers import (
    ExactSolver,
    IterativeSolver,
    PennyLaneSolver,
    QSVTSolver,
    SingularSystemWarning,
    gershgorin_bounds,
    is_positive_definite,
    spectrum,
)


def _spd(n, seed, shift=1.0):
    A = np.random.default_rng(seed).normal(size=(n, n))
    return A @ A.T / n + shift * np.eye(n)


def _indefinite(n, seed):
    r = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(r.normal(size=(n, n)))
    w = np.concatenate([np.linspace(1, 3, n - n // 3), -np.linspace(0.5, 2, n // 3)])
    return Q @ np.diag(w) @ Q.T


def _sparse_spd(n, seed):
    r = np.random.default_rng(seed)
    A = sp.random(n, n, density=5 / n, random_state=seed, format="csr")
    A = (A + A.T) * 0.1
    return (A + sp.diags(1.0 + r.random(n) + abs(A).sum(axis=1).A1)).tocsr()


@pytest.mark.parametrize("solver", [ExactSolver(), IterativeSolver()])
@pytest.mark.parametrize(
    "make", ["dense_spd", "sparse_spd", "dense_indefinite", "sparse_indefinite"]
)
def test_solvers_match_numpy_solve(solver, make):
    n = 60
    K = {
        "dense_spd": lambda: _spd(n, 0),
        "sparse_spd": lambda: _sparse_spd(n, 1),
        "dense_indefinite": lambda: _indefinite(n, 2),
        "sparse_indefinite": lambda: sp.csr_matrix(_indefinite(n, 3)),
    }[make]()
    Y = np.random.default_rng(4).normal(size=(n, 3))
    dense = K.toarray() if sp.issparse(K) else K
    expected = np.linalg.solve(dense, Y)
    got = solver.fit(K, Y).dual_coef_
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-8)
    K_star = np.random.default_rng(5).normal(size=(7, n))
    np.testing.assert_allclose(
        solver.decision_function(K_star), K_star @ expected, rtol=1e-6, atol=1e-8
    )


def test_iterative_picks_cg_for_definite_and_minres_for_indefinite():
    Y = np.ones(40)
    assert IterativeSolver().fit(_spd(40, 0), Y).method_ == "cg"
    assert IterativeSolver().fit(_indefinite(40, 0), Y).method_ == "minres"
    s = IterativeSolver().fit(_sparse_spd(200, 0), np.ones((200, 2)))
    assert len(s.n_iter_) == 2 and all(i > 0 for i in s.n_iter_)
    assert s.classical_cost_["flops"] == 2 * s.classical_cost_["nnz"] * sum(s.n_iter_)


def test_exact_solver_methods():
    Y = np.ones(30)
    assert ExactSolver().fit(_spd(30, 0), Y).method_ == "cholesky"
    assert ExactSolver().fit(_indefinite(30, 0), Y).method_ == "ldl"
    assert ExactSolver().fit(sp.csr_matrix(_spd(30, 0)), Y).method_ == "splu"


@pytest.mark.parametrize("sparse", [False, True])
def test_singular_system_warns_and_gives_minimum_norm_solution(sparse):
    # Two duplicate training points: rows 0 and 1 are equal.
    K = np.array([[2.0, 2.0, 0.1], [2.0, 2.0, 0.1], [0.1, 0.1, 1.0]])
    Y = np.array([[1.0], [1.0], [-1.0]])
    with pytest.warns(SingularSystemWarning, match="singular"):
        s = ExactSolver().fit(sp.csr_matrix(K) if sparse else K, Y)
    np.testing.assert_allclose(s.dual_coef_, np.linalg.pinv(K) @ Y, atol=1e-6)


def test_iterative_warns_when_not_converged():
    with pytest.warns(ConvergenceWarning, match="did not reach tol"):
        IterativeSolver(maxiter=1).fit(_spd(50, 0, shift=0.01), np.ones(50))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"method": "gmres"}, "'method' parameter"),
        ({"tol": 0.0}, "'tol' parameter"),
        ({"maxiter": 0}, "'maxiter' parameter"),
    ],
)
def test_iterative_rejects_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        IterativeSolver(**params).fit(np.eye(2), np.ones(2))


@pytest.mark.parametrize(
    "K, Y, match",
    [
        (np.ones((2, 3)), np.ones(2), "`K` must be a square matrix"),
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), np.ones(2), "`K` must contain"),
        (np.eye(2), np.ones(3), "`Y` must have 2 rows"),
        (np.eye(2), np.array([1.0, np.inf]), "`Y` must contain"),
    ],
)
def test_solvers_reject_bad_systems(K, Y, match):
    with pytest.raises(ValueError, match=match):
        ExactSolver().fit(K, Y)


def test_decision_function_checks_shape():
    s = ExactSolver().fit(np.eye(3), np.ones(3))
    with pytest.raises(ValueError, match=r"`K_star` must have shape \(n_queries, 3\)"):
        s.decision_function(np.ones((2, 4)))


def test_fitted_solver_pickles():
    s = IterativeSolver().fit(_spd(20, 0), np.ones(20))
    s2 = pickle.loads(pickle.dumps(s))
    np.testing.assert_array_equal(s2.dual_coef_, s.dual_coef_)


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, (6, 6), elements=st.floats(-3, 3)))
def test_gershgorin_interval_contains_the_spectrum(A):
    K = (A + A.T) / 2
    lower, upper = gershgorin_bounds(K)
    w = np.linalg.eigvalsh(K)
    assert lower <= w[0] + 1e-9 and w[-1] <= upper + 1e-9
    lower_s, upper_s = gershgorin_bounds(sp.csr_matrix(K))
    assert lower_s == pytest.approx(lower) and upper_s == pytest.approx(upper)


@pytest.mark.parametrize("n", [50, 300])
def test_spectrum_matches_dense_eigenvalues(n):
    # n = 2000 goes through Lanczos (and shift-invert for the indefinite matrix).
    K = _sparse_spd(n, 0)
    w = np.linalg.eigvalsh(K.toarray())
    info = spectrum(K)
    assert info["method"] == ("dense" if n <= 64 else "lanczos")
    assert info["condition_number"] == pytest.approx(w[-1] / w[0], rel=1e-6)
    assert info["positive_definite"]
    shifted = (K - sp.identity(n) * np.median(w)).tocsr()
    ws = np.linalg.eigvalsh(shifted.toarray())
    info = spectrum(shifted)
    assert not info["positive_definite"]
    assert info["min_abs"] == pytest.approx(np.abs(ws).min(), rel=1e-5)
    assert info["max_abs"] == pytest.approx(np.abs(ws).max(), rel=1e-6)
    assert is_positive_definite(K) and not is_positive_definite(shifted)


# --- one symmetry check for every solver (issue 8) -----------------------------------
def _asymmetric(sparse):
    K = _spd(8, 0)
    K[0, 1] += 1e-3  # the lower triangle no longer mirrors the upper one
    return sp.csr_matrix(K) if sparse else K


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize(
    "make",
    [
        lambda: ExactSolver(),
        lambda: IterativeSolver(),
        lambda: QSVTSolver(),
        lambda: PennyLaneSolver(),
    ],
    ids=["exact", "iterative", "qsvt", "pennylane"],
)
def test_every_solver_rejects_a_non_symmetric_matrix(make, sparse):
    with pytest.raises(
        ValueError,
        match=r"`K` must be symmetric: max \|K - K\^T\| = 0\.001 exceeds "
        r"SYMMETRY_TOL = 1e-10 times max \|K\|",
    ):
        make().fit(_asymmetric(sparse), np.ones(8))


def test_symmetry_tolerance_is_relative_to_the_largest_entry():
    from qntk_sklearn.solvers import SYMMETRY_TOL, check_symmetric

    K = _spd(6, 1) * 1e30
    K[0, 1] *= 1 + 0.1 * SYMMETRY_TOL  # rounding-level asymmetry passes
    check_symmetric(K)
    K[0, 1] *= 1 + 10 * SYMMETRY_TOL * np.abs(K).max() / abs(K[0, 1])
    with pytest.raises(ValueError, match="must be symmetric"):
        check_symmetric(K)


# --- duplicate training points: no silent collapse (issue 8) -------------------------
@pytest.fixture(scope="module")
def duplicate_system():
    """The paper's sparsified NTK of 40 points of which rows 4 and 5 are the same point.

    At depth 290 (what depth="auto" picked: the duplicates' separation is 0) the
    kernel is nearly diagonal but for the duplicate pair: splu used to return
    coefficients of +-2e8 on it, which cancel in every decision, leaving all decisions
    exactly 0.0 and accuracy 0.495 (0.805 without the duplicate).
    """
    from sklearn.datasets import make_classification
    from sklearn.utils import check_random_state

    from qntk_sklearn.kernels import FullyConnectedNTK
    from qntk_sklearn.sparsify import random_pattern, sparse_from_pairs

    X, y = make_classification(n_samples=240, random_state=0)
    X_train, y_train = X[:40].copy(), y[:40].copy()
    X_train[5], y_train[5] = X_train[4], y_train[4]
    k = FullyConnectedNTK(depth=290)
    rows, cols = random_pattern(y_train, 1.0, check_random_state(0))
    values = np.empty(rows.size)
    diag = rows == cols
    values[diag] = k.diag(X_train)[rows[diag]]
    values[~diag] = k.pairs(X_train, rows=rows[~diag], cols=cols[~diag])
    K = sparse_from_pairs(rows, cols, values, 40)
    Y = np.where(y_train == 1, 1.0, -1.0)[:, None]
    return K, Y - Y.mean(), k(X[40:], X_train), y[40:]


DUPLICATE_MESSAGE = r"Rows 4 and 5 of K are duplicates.*Remove duplicate.*`diag_reg`"


def _accuracy(solver, K_star, y_test):
    d = solver.decision_function(K_star).ravel()
    assert np.ptp(d) > 0  # not collapsed
    return np.mean((d > 0) == (y_test == 1))


@pytest.mark.parametrize("sparse", [True, False])
def test_exact_solver_falls_back_to_minimum_norm_and_names_duplicates(
    duplicate_system, sparse
):
    K, Y, K_star, y_test = duplicate_system
    with pytest.warns(SingularSystemWarning, match=DUPLICATE_MESSAGE):
        s = ExactSolver().fit(K if sparse else K.toarray(), Y)
    assert s.method_ == ("minres" if sparse else "lstsq")
    assert _accuracy(s, K_star, y_test) >= 0.75


def test_iterative_solver_does_not_collapse_on_duplicates(duplicate_system):
    K, Y, K_star, y_test = duplicate_system
    s = IterativeSolver().fit(K, Y)  # CG from 0 stays in the range of K: no warning
    assert _accuracy(s, K_star, y_test) >= 0.75


@pytest.mark.parametrize("make", [QSVTSolver, PennyLaneSolver])
def test_quantum_solvers_refuse_duplicates_with_the_cause(duplicate_system, make):
    K, Y, _, _ = duplicate_system
    with pytest.raises(
        ValueError, match=r"kappa=.*Rows 4 and 5 of K are duplicates.*`diag_reg`"
    ):
        make().fit(K, Y)


def test_check_solution_flags_a_null_space_dominated_solution():
    from qntk_sklearn.solvers import CollapsedSolutionWarning
    from qntk_sklearn.solvers._conditioning import check_solution

    K = np.array([[2.0, 2.0, 0.0], [2.0, 2.0, 0.0], [0.0, 0.0, 1.0]])
    Y = np.array([[1.0], [1.0], [-1.0]])
    good = np.linalg.pinv(K) @ Y
    assert not check_solution(K, Y, good, solver="test")
    bad = good + 1e17 * np.array([[1.0], [-1.0], [0.0]])  # null-space component
    with pytest.warns(
        CollapsedSolutionWarning,
        match=r"condition number .* dominated by the null space.*Rows 0 and 1",
    ):
        assert check_solution(K, Y, bad, solver="test")
