"""Finite training time in every solver, against scipy.linalg.expm oracles."""

import math

import numpy as np
import pytest
import scipy.linalg as la
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from qntk_sklearn.solvers import (
    ExactSolver,
    IterativeSolver,
    PennyLaneSolver,
    QSVTSolver,
    estimate_quantum_resources,
    gradient_flow_dense,
    gradient_flow_polynomial,
    lanczos_gradient_flow,
)
from qntk_sklearn.solvers._evolution import phi


def _spd(n, seed, shift=0.05):
    A = np.random.default_rng(seed).normal(size=(n, n))
    return A @ A.T / n + shift * np.eye(n)


def _sparse_spd(n, seed):
    r = np.random.default_rng(seed)
    A = sp.random(n, n, density=4 / n, random_state=seed, format="csr")
    A = (A + A.T) * 0.2
    return (A + sp.diags(0.01 + r.random(n) + abs(A).sum(axis=1).A1)).tocsr()


def oracle(K, Y, t):
    """``K^-1 (I - expm(-t K)) Y`` with scipy's dense matrix exponential."""
    K = K.toarray() if sp.issparse(K) else K
    return np.linalg.solve(K, Y - la.expm(-t * K) @ Y)


@pytest.mark.parametrize("t", [0.3, 5.0, 200.0])
@pytest.mark.parametrize(
    "make, sparse",
    [
        (ExactSolver, False),
        (ExactSolver, True),
        (IterativeSolver, False),
        (IterativeSolver, True),
    ],
)
def test_classical_solvers_match_the_matrix_exponential(make, sparse, t):
    n = 40
    K = _sparse_spd(n, 1) if sparse else _spd(n, 0)
    Y = np.random.default_rng(2).normal(size=(n, 2))
    s = make().fit(K, Y, t=t)
    expected = oracle(K, Y, t)
    np.testing.assert_allclose(s.dual_coef_, expected, rtol=1e-7, atol=1e-9)
    assert s.time_ == t
    if make is ExactSolver:
        assert s.method_ == ("lanczos" if sparse else "eigh")
    else:
        assert s.method_ == "lanczos"


@pytest.mark.parametrize("sparse", [False, True])
def test_qsvt_solver_emulates_the_gradient_flow_polynomial(sparse):
    n = 30
    K = _sparse_spd(n, 3) if sparse else _spd(n, 4)
    Y = np.random.default_rng(5).normal(size=(n, 2))
    t = 3.0
    s = QSVTSolver(epsilon=1e-6).fit(K, Y, t=t)
    expected = oracle(K, Y, t)
    # Relative error <= epsilon eigenvalue by eigenvalue, hence in norm.
    err = np.linalg.norm(s.dual_coef_ - expected, axis=0)
    assert np.all(err <= 1e-6 * np.linalg.norm(expected, axis=0) * (1 + 1e-6))
    assert s.polynomial_.tau == pytest.approx(t * s.alpha_)
    assert s.degree_ == s.polynomial_.degree
    K_probe = K[:3].toarray() if sparse else K[:3]
    r = estimate_quantum_resources(s, K, Y, K_probe, 1.0)
    assert r.degree == s.degree_ and 0 < r.success_probability <= 1


def test_gradient_flow_degree_does_not_grow_with_the_condition_number():
    Y = np.ones(3)
    degrees = []
    for smallest in (1e-1, 1e-4, 1e-8):
        K = np.diag([1.0, 0.5, smallest])
        s = QSVTSolver().fit(K, Y, t=4.0)
        degrees.append(s.degree_)
        np.testing.assert_allclose(
            s.dual_coef_.ravel(), phi(np.diag(K), 4.0), rtol=1e-3
        )
    assert len(set(degrees)) == 1
    # The inverse at t = None needs a degree that grows with kappa.
    assert QSVTSolver().fit(np.diag([1.0, 0.5, 1e-4]), Y).degree_ > 10 * degrees[0]


@pytest.mark.parametrize("make", [ExactSolver, IterativeSolver, QSVTSolver])
def test_finite_time_regularises_a_singular_matrix(make):
    # Duplicate rows: K^-1 does not exist, phi_t(K) does (bounded by t).
    K = np.array([[2.0, 2.0, 0.1], [2.0, 2.0, 0.1], [0.1, 0.1, 1.0]])
    Y = np.array([[1.0], [1.0], [-1.0]])
    s = make().fit(K, Y, t=2.0)
    w, V = np.linalg.eigh(K)
    expected = V @ (phi(w, 2.0)[:, None] * (V.T @ Y))
    np.testing.assert_allclose(s.dual_coef_, expected, rtol=1e-3, atol=1e-9)


def test_long_time_is_the_inverse_and_short_time_is_t_y():
    K = _spd(20, 6)
    Y = np.random.default_rng(7).normal(size=(20, 1))
    np.testing.assert_allclose(
        ExactSolver().fit(K, Y, t=1e6).dual_coef_, np.linalg.solve(K, Y), rtol=1e-8
    )
    np.testing.assert_allclose(
        ExactSolver().fit(sp.csr_matrix(K), Y, t=1e6).dual_coef_,
        np.linalg.solve(K, Y),
        rtol=1e-8,
    )
    t = 1e-6  # phi_t(K) = t - t^2 K / 2 + O(t^3)
    small = ExactSolver().fit(K, Y, t=t).dual_coef_
    np.testing.assert_allclose(small, t * Y - t * t / 2 * K @ Y, rtol=1e-8)


@pytest.mark.parametrize(
    "make, sparse",
    [
        (ExactSolver, False),
        (ExactSolver, True),
        (IterativeSolver, True),
        (QSVTSolver, False),
    ],
)
def test_finite_time_refuses_an_indefinite_matrix(make, sparse):
    K = np.diag([1.0, 0.5, -0.3])
    K = sp.csr_matrix(K) if sparse else K
    with pytest.raises(
        ValueError,
        match=r"finite training time `t` needs a positive semi-definite kernel.*"
        r"lambda_min = -0\.3.*ridge of more than 0\.75 times mean\(diag K\) "
        r"\(`diag_reg`",
    ):
        make().fit(K, np.ones(3), t=1.0)


def test_pennylane_refuses_finite_time():
    with pytest.raises(ValueError, match=r"t=None.*got t=1\.0.*QSVTSolver"):
        PennyLaneSolver().fit(np.eye(2), np.ones(2), t=1.0)


@pytest.mark.parametrize("t", [0.0, -1.0, math.inf, math.nan, "1"])
def test_bad_times(t):
    with pytest.raises(ValueError, match=r"`t` must be a positive finite number"):
        ExactSolver().fit(np.eye(2), np.ones(2), t=t)


def test_lanczos_matches_the_oracle_and_adapts_to_the_spectrum():
    K = _sparse_spd(300, 8)
    Y = np.random.default_rng(9).normal(size=(300, 2))
    for t in (0.1, 10.0, 500.0):
        coef, iterations, ok = lanczos_gradient_flow(K, Y, t)
        np.testing.assert_allclose(coef, oracle(K, Y, t), rtol=1e-9, atol=1e-12)
        assert ok
    # A zero eigenvalue (duplicate points) and a cluster: few iterations; the zero
    # mode gets the limit phi_t(0) = t.
    D = sp.diags(np.r_[0.0, np.linspace(2.4, 2.6, 199)]).tocsr()
    y = np.ones(200)
    coef, iterations, ok = lanczos_gradient_flow(D, y, 1e3)
    assert ok and iterations[0] <= 40
    np.testing.assert_allclose(coef[0], 1e3)
    np.testing.assert_allclose(coef[1:], 1 / D.diagonal()[1:], rtol=1e-9)


def test_gradient_flow_dense_matches_the_oracle():
    K = _spd(15, 10)
    Y = np.random.default_rng(11).normal(size=(15, 3))
    np.testing.assert_allclose(
        gradient_flow_dense(K, Y, 7.0), oracle(K, Y, 7.0), rtol=1e-9
    )


@settings(max_examples=20, deadline=None)
@given(
    tau=st.floats(0.01, 300.0),
    log_eps=st.floats(math.log(1e-7), math.log(0.1)),
)
def test_gradient_flow_polynomial_properties(tau, log_eps):
    eps = math.exp(log_eps)
    P = gradient_flow_polynomial(tau, eps)
    x = np.concatenate([np.linspace(0, 1, 4001), np.geomspace(1e-9, 1e-2, 200)])
    exact = phi(x, tau)
    assert np.all(np.abs(P(x) / P.x_scale - exact) <= eps * exact * (1 + 1e-9))
    assert np.max(np.abs(P(np.linspace(-1, 1, 8001)))) <= 1.0
    # The success probability stays of order one: x_scale tau is not tiny.
    assert P.x_scale * tau >= 0.1


def test_gradient_flow_polynomial_budget_is_checked_first():
    with pytest.raises(ValueError, match=r"t \* alpha = 1e\+07 .*above `max_degree`"):
        gradient_flow_polynomial(1e7, 1e-3)


def test_resources_of_a_classical_finite_time_fit_use_the_flow_polynomial():
    K = np.diag([1.0, 0.5, 1e-6])  # kappa 1e6: the inverse needs degree ~4e7
    Y = np.ones(3)
    s = ExactSolver().fit(K, Y, t=3.0)
    r = estimate_quantum_resources(s, K, Y, K, 1.0)
    assert r.degree == gradient_flow_polynomial(3.0 * r.alpha, 1e-3).degree < 200
    assert 0 < r.success_probability <= 1
