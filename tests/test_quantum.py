"""Tests of the quantum solvers: polynomial, emulator, PennyLane circuits, resources.

Tolerances are derived, not tuned:

* Polynomial: ``|P(x) - x_scale/x| <= epsilon * x_scale/|x|`` on ``1/kappa <= |x| <= 1``
  (relative error ``epsilon``), hence for ``K = sum_i lambda_i v_i v_i^T`` and
  ``A = K / alpha``: ``P(A) y / (x_scale alpha) - K^-1 y = sum_i e_i c_i v_i`` with
  ``|e_i| <= epsilon / |lambda_i|`` (``c_i = v_i^T y``), so
  ``||dual_coef - K^-1 y|| <= epsilon ||K^-1 y||`` by orthogonality, and by
  Cauchy-Schwarz a noiseless decision value obeys
  ``|k^T dual_coef - k^T K^-1 y| <= epsilon ||k|| ||K^-1 y||``. Floating point adds
  ``~degree * 1e-16`` relative, far below ``epsilon``; we allow ``1e-12`` extra.
* Shots: ``o_hat = 2 m / S - 1`` with ``m ~ Binomial(S, (1 + o)/2)`` has mean ``o`` and
  variance ``(1 - o^2) / S``; decision values are ``scale * o_hat``.
"""

import math
import pickle
import tracemalloc
import warnings
from collections import OrderedDict

import numpy as np
import numpy.polynomial.chebyshev as cheb
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from qntk_sklearn.solvers import (
    ExactSolver,
    IterativeSolver,
    PaddingWarning,
    PennyLaneSolver,
    QSVTSolver,
    QuantumResources,
    _pennylane,
    block_encoding_bounds,
    chebyshev_apply,
    chebyshev_sup_bound,
    clip_kernel_rows,
    estimate_quantum_resources,
    inverse_degree_bound,
    inverse_polynomial,
)


# --------------------------------------------------------------------------- helpers
def kernel_like(n, seed=0, indefinite=False, off=0.06, per_row=3):
    """A symmetric, near-diagonal matrix like a deep network's sparsified NTK.

    Diagonal entries in [0.7, 1] (random signs when ``indefinite``), plus about
    ``per_row`` off-diagonal entries of size <= ``off`` per row: Gershgorin keeps every
    eigenvalue's magnitude in [0.7 - 2 per_row off, 1 + 2 per_row off].
    """
    rng = np.random.default_rng(seed)
    diag = rng.uniform(0.7, 1.0, n)
    if indefinite:
        diag *= np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    m = per_row * n // 2
    rows, cols = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = rows != cols
    E = sp.coo_matrix(
        (rng.uniform(-off, off, keep.sum()), (rows[keep], cols[keep])), shape=(n, n)
    )
    return (E + E.T + sp.diags(diag)).toarray()


def exact_tolerance(K, Y, K_star, epsilon):
    """``epsilon ||k|| ||K^-1 y||`` per (query, target), plus rounding slack."""
    sol = np.linalg.solve(K, Y)
    bound = (
        epsilon * np.linalg.norm(K_star, axis=1)[:, None] * np.linalg.norm(sol, axis=0)
    )
    return sol, bound + 1e-12 * (1 + np.abs(K_star @ sol))


# --------------------------------------------------------------------------- polynomial
@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    kappa=st.floats(1.0, 30.0),
    log_eps=st.floats(math.log(1e-8), math.log(0.5)),
)
def test_inverse_polynomial_properties(kappa, log_eps):
    eps = math.exp(log_eps)
    P = inverse_polynomial(kappa, eps)
    # Odd: every even Chebyshev coefficient vanishes; degree odd and as documented.
    assert P.degree % 2 == 1 and P.coef.size == P.degree + 1
    assert np.all(P.coef[0::2] == 0)
    assert P.degree <= inverse_degree_bound(kappa, eps)
    # |P| <= 1 on a fine grid of [-1, 1], refined where g peaks (x ~ 1/sqrt(b)).
    peak = np.linspace(0, min(1.0, 6.0 / math.sqrt(P.b)), 4001)
    x = np.concatenate([np.linspace(-1, 1, 20001), peak, -peak])
    assert np.max(np.abs(P(x))) <= 1.0
    # Relative (hence absolute) error <= epsilon on 1/kappa <= |x| <= 1.
    dom = np.linspace(1.0 / kappa, 1.0, 5001)
    dom = np.concatenate([dom, -dom])
    rel = np.abs(P(dom) * dom / P.x_scale - 1.0)
    assert rel.max() <= eps * (1 + 1e-9) + 1e-13
    assert np.max(np.abs(P(dom) - P.x_scale / dom)) <= eps + 1e-13
    assert P.x_scale * kappa <= 1.0


def test_degree_grows_like_kappa_log_kappa_over_epsilon():
    eps = 1e-3
    for kappa in (2.0, 8.0, 32.0, 128.0):
        d = inverse_polynomial(kappa, eps).degree
        bound = inverse_degree_bound(kappa, eps)
        assert d <= bound
        # O(kappa log(kappa/eps)): 2 kappa sqrt(ln(2/eps) ln(8 b/eps)) <= 3 k ln(k/eps).
        assert bound <= 3 * kappa * math.log(kappa / eps) + 3
    # Doubling kappa roughly doubles the degree (not 4x, as kappa^2 would).
    d1, d2 = (inverse_polynomial(k, eps).degree for k in (32.0, 64.0))
    assert 1.6 < d2 / d1 < 2.4
    # kappa = 1: the domain is {-1, 1} and P(x) = x_scale x is exact.
    assert inverse_polynomial(1.0, 0.1).degree == 1


def test_sup_bound_is_an_upper_bound_within_2_5_percent(rng):
    for degree in (1, 7, 40):
        coef = rng.normal(size=degree + 1)
        true = np.max(np.abs(cheb.chebval(np.cos(np.linspace(0, np.pi, 200001)), coef)))
        bound = chebyshev_sup_bound(coef)
        assert true <= bound <= 1.025 * true


def test_chebyshev_apply_matches_eigendecomposition(rng):
    n = 12
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    lam = rng.uniform(-1, 1, n)
    A = Q @ np.diag(lam) @ Q.T
    coef = rng.normal(size=9)
    Y = rng.normal(size=(n, 2))
    expected = Q @ (cheb.chebval(lam, coef)[:, None] * (Q.T @ Y))
    np.testing.assert_allclose(chebyshev_apply(coef, A, Y), expected, atol=1e-12)
    np.testing.assert_allclose(
        chebyshev_apply(coef, sp.csr_matrix(A), Y), expected, atol=1e-12
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kappa": 0.5, "epsilon": 0.1}, r"`kappa` must .* got 0.5"),
        ({"kappa": 2.0, "epsilon": 2.0}, r"`epsilon` must be in \(0, 1\); got 2.0"),
    ],
)
def test_inverse_polynomial_rejects_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        inverse_polynomial(**kwargs)


def _traced_peak(fn):
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_inverse_polynomial_memory_is_bounded():
    """kappa ~ 1e4 (a depth-2 NTK on 300 points): the sup-norm grid of 64 (d + 1)
    points and the binomial tail arrays used to take ~1 GiB; now O(degree)."""
    P, peak = _traced_peak(lambda: inverse_polynomial(8.8e3, 1e-3))
    assert P.degree > 1e5
    assert peak < 40 * P.degree + 30e6  # a few float64 arrays of the degree's size
    # The sup-norm bound behind x_scale is still an upper bound of max |g|.
    x = np.concatenate(
        [np.linspace(0, 1, 1001), np.linspace(0, 6 / math.sqrt(P.b), 2001)]
    )
    assert np.max(np.abs(P(x))) <= 1.0


def test_sup_bound_memory_is_bounded_for_large_degrees(rng):
    coef = rng.normal(size=400_001) / np.arange(1, 400_002) ** 2
    bound, peak = _traced_peak(lambda: chebyshev_sup_bound(coef))
    assert peak < 128 * coef.size + 48e6  # 64 (d + 1) grid points took ~0.6 GiB
    true = abs(coef.sum())  # |p| peaks at x = 1 for these positive coefficients
    assert true <= bound <= 1.025 * np.abs(coef).sum()


def test_degree_budget_is_an_error_before_allocating():
    K = np.diag([1.0, 1e-5, -1.0])  # kappa = 1e5: degree ~3e6 (24 GiB before)
    tracemalloc.start()
    try:
        with pytest.raises(
            ValueError,
            match=r"kappa=1e\+05 .*epsilon=0\.001.* degree up to 3\d{6}, above "
            r"`max_degree`=1000000.*`diag_reg`.*deeper network.*solver='exact' or "
            r"'iterative'",
        ):
            QSVTSolver().fit(K, np.ones(3))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5e6
    # The budget is a parameter.
    K = np.diag([1.0, 1e-2])
    with pytest.raises(ValueError, match="above `max_degree`=100"):
        QSVTSolver(max_degree=100).fit(K, np.ones(2))
    assert QSVTSolver(max_degree=10_000).fit(K, np.ones(2)).degree_ > 100


# --------------------------------------------------------------------------- emulator
@pytest.mark.parametrize("indefinite", [False, True])
@pytest.mark.parametrize("alpha", ["norm", "sparse"])
@pytest.mark.parametrize("epsilon", [1e-2, 1e-4])
def test_exact_readout_matches_solve(indefinite, alpha, epsilon, rng):
    n = 40
    K = kernel_like(n, seed=3, indefinite=indefinite)
    Y = rng.normal(size=(n, 3))
    K_star = rng.uniform(-1, 1, size=(7, n))
    s = QSVTSolver(epsilon=epsilon, alpha=alpha).fit(K, Y, k_thresh=10.0)
    sol, tol = exact_tolerance(K, Y, K_star, epsilon)
    d = s.decision_function(K_star)
    assert d.shape == (7, 3)
    assert np.all(np.abs(d - K_star @ sol) <= tol)
    # The dual coefficients themselves: relative error <= epsilon per target.
    err = np.linalg.norm(s.dual_coef_ - sol, axis=0)
    assert np.all(err <= epsilon * np.linalg.norm(sol, axis=0) + 1e-12)
    assert np.all((s.success_probability_ > 0) & (s.success_probability_ <= 1))
    assert s.kappa_ >= 1 and s.alpha_ >= np.abs(np.linalg.eigvalsh(K)).max()


def test_indefinite_spectrum_is_covered(rng):
    K = np.diag([1.0, -0.5, 0.25, -0.2])
    s = QSVTSolver(epsilon=1e-3).fit(K, np.ones(4))
    assert s.spectral_bounds_["min_abs_estimate"] == pytest.approx(0.2)
    np.testing.assert_allclose(s.dual_coef_.ravel(), 1 / np.diag(K), rtol=1e-3)


def test_clipping_follows_the_paper(rng):
    n = 10
    K = kernel_like(n, seed=1)
    y = rng.normal(size=n)
    K_star = rng.normal(size=(4, n))
    s = QSVTSolver().fit(K, y, k_thresh=0.5)
    k, P = clip_kernel_rows(K_star, 0.5)
    assert np.all(np.abs(k) <= 1) and np.allclose(P, (k**2).sum(axis=1))
    np.testing.assert_allclose(
        s.decision_function(K_star), 0.5 * k @ s.dual_coef_, rtol=1e-12, atol=1e-14
    )
    costs = s.measurement_costs(K_star)
    np.testing.assert_allclose(costs["post_selection_kthresh"], n / P)
    row_max, batch_max = np.abs(k).max(axis=1), np.abs(k).max()
    np.testing.assert_allclose(costs["post_selection_rowmax"], n * row_max**2 / P)
    np.testing.assert_allclose(costs["post_selection_paper"], n * batch_max**2 / P)
    o = (k @ s.dual_coef_).ravel() / (np.sqrt(P) * np.linalg.norm(s.dual_coef_))
    np.testing.assert_allclose(costs["readout"].ravel(), 1 / o**2 - 1)
    np.testing.assert_allclose(costs["qsvt_repetitions"], 1 / s.success_probability_)
    # Default clipping scale: max |diag K|.
    assert QSVTSolver().fit(K, y).k_thresh_ == np.abs(np.diag(K)).max()


def test_variance_falls_like_one_over_shots(rng):
    """Empirical variance over R seeds vs the binomial formula (chi-square bounds)."""
    n, R = 16, 300
    K = kernel_like(n, seed=2)
    y = rng.normal(size=n)
    K_star = rng.uniform(-1, 1, size=(3, n))
    exact = QSVTSolver().fit(K, y, k_thresh=2.0)
    d0 = exact.decision_function(K_star).ravel()
    k_norm = np.linalg.norm(K_star / 2.0, axis=1)
    scale = 2.0 * k_norm * np.linalg.norm(exact.dual_coef_)
    o = d0 / scale
    variances = {}
    for shots in (100, 1600):
        draws = np.array(
            [
                QSVTSolver(shots=shots, random_state=seed)
                .fit(K, y, k_thresh=2.0)
                .decision_function(K_star)
                .ravel()
                for seed in range(R)
            ]
        )
        sigma2 = scale**2 * (1 - o**2) / shots
        # Unbiased: the mean is within 4.5 standard errors (Bonferroni over 3 rows).
        assert np.all(np.abs(draws.mean(axis=0) - d0) <= 4.5 * np.sqrt(sigma2 / R))
        # (R - 1) s^2 / sigma^2 ~ chi2(R - 1) (binomial ~ normal at these shots).
        stat = (R - 1) * draws.var(axis=0, ddof=1) / sigma2
        lo, hi = stats.chi2.ppf([1e-4, 1 - 1e-4], R - 1)
        assert np.all((lo <= stat) & (stat <= hi))
        variances[shots] = draws.var(axis=0, ddof=1)
    ratio = variances[100] / variances[1600]
    # Ratio of two independent chi2/(R-1) variables times 16: F-distribution bounds.
    lo, hi = stats.f.ppf([1e-4, 1 - 1e-4], R - 1, R - 1)
    assert np.all((16 * lo <= ratio) & (ratio <= 16 * hi))


def test_reproducible_and_batch_independent(rng):
    n = 20
    K = kernel_like(n, seed=4)
    Y = rng.normal(size=(n, 2))
    K_star = rng.uniform(-1, 1, size=(9, n))
    s = QSVTSolver(shots=50, random_state=7).fit(K, Y)
    d = s.decision_function(K_star)
    np.testing.assert_array_equal(d, s.decision_function(K_star))
    np.testing.assert_array_equal(d[3:5], s.decision_function(K_star[3:5]))
    np.testing.assert_array_equal(d[::-1], s.decision_function(K_star[::-1]))
    t = QSVTSolver(shots=50, random_state=7).fit(K, Y)
    np.testing.assert_array_equal(d, t.decision_function(K_star))
    u = QSVTSolver(shots=50, random_state=8).fit(K, Y)
    assert not np.array_equal(d, u.decision_function(K_star))
    assert s._stochastic and not QSVTSolver()._stochastic
    assert s.decision_function(np.empty((0, n))).shape == (0, 2)


def test_sparse_input_is_never_densified():
    """n = 20,000: an n x n float64 array would take 3.2 GB; the peak stays < 60 MB."""
    rng = np.random.default_rng(0)
    n = 20_000
    m = 4 * n
    rows, cols = rng.integers(0, n, m), rng.integers(0, n, m)
    E = sp.coo_matrix((rng.uniform(-0.05, 0.05, m), (rows, cols)), shape=(n, n))
    K = (E + E.T + sp.eye(n)).tocsr()
    Y = rng.normal(size=(n, 2))
    K_star = rng.normal(size=(3, n))
    tracemalloc.start()
    try:
        s = QSVTSolver(shots=100, random_state=0).fit(K, Y)
        d = s.decision_function(K_star)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 60e6
    assert s.spectral_bounds_["spectrum_method"] == "lanczos"
    assert d.shape == (3, 2) and np.all(np.isfinite(d))
    # Check the solution against CG on the same sparse matrix.
    cg = IterativeSolver(tol=1e-12).fit(K, Y)
    err = np.linalg.norm(s.dual_coef_ - cg.dual_coef_, axis=0)
    assert np.all(err <= 1e-3 * np.linalg.norm(cg.dual_coef_, axis=0) * (1 + 1e-6))


def test_pickle_round_trip_qsvt(rng):
    n = 12
    K = kernel_like(n, seed=5)
    s = QSVTSolver(shots=30, random_state=1).fit(K, rng.normal(size=n))
    K_star = rng.normal(size=(4, n))
    clone = pickle.loads(pickle.dumps(s))
    np.testing.assert_array_equal(
        s.decision_function(K_star), clone.decision_function(K_star)
    )


def test_sklearn_params_and_clone():
    from sklearn.base import clone

    s = QSVTSolver(epsilon=0.01, shots=10)
    assert clone(s).get_params() == s.get_params()
    assert set(s.get_params()) == {
        "epsilon",
        "alpha",
        "kappa",
        "shots",
        "random_state",
        "max_degree",
    }


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"epsilon": 2.0}, r"epsilon.*2\.0"),
        ({"epsilon": 0}, r"epsilon.*0"),
        ({"shots": 0}, r"shots.*0"),
        ({"shots": 2.5}, r"shots.*2\.5"),
        ({"alpha": "dense"}, r"alpha.*dense"),
        ({"alpha": -1.0}, r"alpha.*-1\.0"),
        ({"kappa": 0.5}, r"kappa.*0\.5"),
    ],
)
def test_bad_parameters_raise(params, match):
    with pytest.raises(ValueError, match=match):
        QSVTSolver(**params).fit(np.eye(2), np.ones(2))


def test_bad_inputs_raise(rng):
    K = kernel_like(6, seed=0)
    with pytest.raises(ValueError, match=r"`k_thresh` must be a positive .*got -1\.0"):
        QSVTSolver().fit(K, np.ones(6), k_thresh=-1.0)
    with pytest.raises(ValueError, match="`K` must be symmetric"):
        QSVTSolver().fit(np.triu(K), np.ones(6))
    with pytest.raises(ValueError, match="`K` is singular"):
        QSVTSolver().fit(np.diag([1.0, 0.0]), np.ones(2))
    with pytest.raises(ValueError, match=r"`alpha` must be at least the spectral norm"):
        QSVTSolver(alpha=0.1).fit(K, np.ones(6))
    s = QSVTSolver().fit(K, np.ones(6))
    with pytest.raises(ValueError, match=r"`K_star` must have shape \(n_queries, 6\)"):
        s.decision_function(np.ones((2, 5)))


def test_block_encoding_bounds_are_safe(rng):
    K = kernel_like(30, seed=6, indefinite=True)
    lam = np.abs(np.linalg.eigvalsh(K))
    for alpha in ("norm", "sparse"):
        b = block_encoding_bounds(K, alpha)
        assert b["alpha"] >= lam.max()
        assert b["kappa"] >= b["alpha"] / lam.min() * (1 - 1e-9)
    assert (
        block_encoding_bounds(K, "sparse")["alpha"] >= block_encoding_bounds(K)["alpha"]
    )
    # Sparse, above SPARSE_DENSIFY_MAX: Lanczos with a margin, still safe. A matrix
    # with a known spectrum: 2 x 2 rotations of a diagonal, symmetrically permuted.
    n = 4000
    lam = rng.uniform(0.3, 1.2, n) * rng.choice([-1.0, 1.0], n)
    theta = rng.uniform(0, np.pi, n // 2)
    c, s_ = np.cos(theta), np.sin(theta)
    a, b = lam[0::2], lam[1::2]
    blocks = np.stack(
        [
            [c * c * a + s_ * s_ * b, c * s_ * (a - b)],
            [c * s_ * (a - b), s_ * s_ * a + c * c * b],
        ]
    ).transpose(2, 0, 1)
    Ks = sp.block_diag(list(blocks), format="csr")
    perm = rng.permutation(n)
    Ks = Ks[perm][:, perm]
    b = block_encoding_bounds(Ks)
    assert b["spectrum_method"] == "lanczos+shift-invert"
    assert (
        b["alpha"] >= np.abs(lam).max() and b["alpha"] / b["kappa"] <= np.abs(lam).min()
    )
    assert b["kappa"] <= 1.03 * np.abs(lam).max() / np.abs(lam).min()
    # Near-diagonal: the Gershgorin discs alone certify kappa <= 1.1.
    K = np.diag(rng.uniform(1.0, 1.05, 50)) + 0.0002
    b = block_encoding_bounds(K)
    lam = np.linalg.eigvalsh(K)
    assert b["spectrum_method"] == "gershgorin"
    assert b["alpha"] >= lam.max() and b["alpha"] / b["kappa"] <= lam.min()
    assert b["kappa"] <= 1.1 * lam.max() / lam.min()


# --------------------------------------------------------------------------- PennyLane
PL_KAPPA = 2.0
PL_EPS = 1e-2


def _pl_system(n, seed=0, indefinite=False):
    K = kernel_like(n, seed=seed, indefinite=indefinite, off=0.03, per_row=2)
    rng = np.random.default_rng(seed + 100)
    return K, rng.normal(size=(n, 2)), rng.uniform(-1, 1, size=(6, n))


@pytest.fixture(scope="module")
def pl_fits():
    """PennyLane and emulator fits for n in {4, 8, 16, 32} sharing one polynomial."""
    out = {}
    for n in (4, 8, 16, 32):
        K, Y, K_star = _pl_system(n, seed=n, indefinite=(n == 8))
        pl = PennyLaneSolver(epsilon=PL_EPS, kappa=PL_KAPPA, random_state=0).fit(
            K, Y, k_thresh=2.0
        )
        # The same block encoding and polynomial in the emulator.
        emu = QSVTSolver(epsilon=PL_EPS, kappa=PL_KAPPA, alpha=pl.alpha_).fit(
            K, Y, k_thresh=2.0
        )
        # kappa=PL_KAPPA must be a valid bound: check against the exact spectrum.
        assert np.abs(np.linalg.eigvalsh(K / pl.alpha_)).min() >= 1 / PL_KAPPA
        out[n] = (K, Y, K_star, pl, emu)
    return out


@pytest.mark.slow  # shares the ~10-25 s PennyLane fixture (angles, circuits)
@pytest.mark.parametrize("n", [4, 8, 16, 32])
def test_circuit_state_matches_emulator(pl_fits, n):
    K, Y, K_star, pl, emu = pl_fits[n]
    assert pl.degree_ == emu.degree_ and pl.n_qubits_ == math.ceil(math.log2(n)) + 3
    for j in range(Y.shape[1]):
        x_emu = emu.dual_coef_[:, j] / np.linalg.norm(emu.dual_coef_[:, j])
        fidelity = abs(np.vdot(x_emu, pl.post_selected_states_[:n, j])) ** 2
        assert fidelity >= 0.999
    np.testing.assert_allclose(
        pl.success_probability_, emu.success_probability_, rtol=1e-6
    )
    # Noiseless Hadamard test = emulator's overlap, and both within epsilon of solve.
    d_pl, d_emu = pl.decision_function(K_star), emu.decision_function(K_star)
    np.testing.assert_allclose(d_pl, d_emu, rtol=1e-6, atol=1e-8)
    sol, tol = exact_tolerance(K, Y, K_star, PL_EPS)
    assert np.all(np.abs(d_pl - K_star @ sol) <= tol + 1e-6)


@pytest.mark.slow  # shares the ~10-25 s PennyLane fixture (angles, circuits)
def test_circuit_shots_agree_statistically(pl_fits):
    """Independent samples of the two solvers: sum of squared z-scores ~ chi2."""
    K, Y, _, pl, emu = pl_fits[16]
    rng = np.random.default_rng(11)
    K_star = rng.uniform(-1, 1, size=(40, 16))
    shots = 200
    # shots only matter at readout: a copy of the fitted circuit solver (seed_ from
    # random_state=0) with shots set; the emulator's stream (random_state=2) differs.
    pl_s = pickle.loads(pickle.dumps(pl)).set_params(shots=shots)
    emu_s = QSVTSolver(
        epsilon=PL_EPS, kappa=PL_KAPPA, alpha=pl.alpha_, shots=shots, random_state=2
    ).fit(K, Y, k_thresh=2.0)
    exact = emu.decision_function(K_star)
    k_norm = np.linalg.norm(np.clip(K_star / 2.0, -1, 1), axis=1)[:, None]
    scale = 2.0 * k_norm * np.linalg.norm(emu.dual_coef_, axis=0)
    var = scale**2 * (1 - (exact / scale) ** 2) / shots
    z = (pl_s.decision_function(K_star) - emu_s.decision_function(K_star)) / np.sqrt(
        2 * var
    )
    lo, hi = stats.chi2.ppf([1e-3, 1 - 1e-3], z.size)
    assert lo <= np.sum(z**2) <= hi


def test_angles_are_computed_once_per_fit(monkeypatch):
    from qntk_sklearn.solvers import _angles

    calls = []
    original = _angles.symmetric_qsp_phases

    def counting(coef, **kwargs):
        calls.append(len(coef) - 1)
        return original(coef, **kwargs)

    monkeypatch.setattr(_angles, "symmetric_qsp_phases", counting)
    monkeypatch.setattr(_pennylane, "_ANGLE_CACHE", OrderedDict())
    K, Y, K_star = _pl_system(4, seed=1)
    s = PennyLaneSolver(epsilon=0.05, kappa=1.5).fit(K, Y)
    assert calls == [s.degree_]
    first = s.decision_function(K_star)
    np.testing.assert_array_equal(first, s.decision_function(K_star))
    clone = pickle.loads(pickle.dumps(s))  # pickle round trip predicts the same
    np.testing.assert_array_equal(first, clone.decision_function(K_star))
    PennyLaneSolver(epsilon=0.05, kappa=1.5).fit(K, Y)  # same polynomial: cached
    assert calls == [s.degree_]


@pytest.mark.parametrize(("kappa", "epsilon"), [(1.0, 1e-3), (1.5, 1e-2), (30, 1e-2)])
def test_symmetric_qsp_phases_reproduce_the_polynomial(kappa, epsilon):
    from qntk_sklearn.solvers._angles import qsp_response, symmetric_qsp_phases

    P = inverse_polynomial(kappa, epsilon)
    phases = symmetric_qsp_phases(P.coef)
    assert phases.shape == (P.degree + 1,)
    np.testing.assert_allclose(phases, phases[::-1], atol=1e-12)  # symmetric QSP
    x = np.cos(np.linspace(0, np.pi, 2 * P.degree + 3))
    np.testing.assert_allclose(qsp_response(phases, x), P(x), atol=1e-11)
    # The QSVT angles of the circuit solver implement the same polynomial.
    angles = _pennylane.qsvt_angles(P)
    np.testing.assert_allclose(_pennylane.qsvt_response(angles, x), P(x), atol=1e-11)


def test_symmetric_qsp_phases_even_parity_and_errors():
    from qntk_sklearn.solvers._angles import (
        AngleSolverError,
        qsp_response,
        symmetric_qsp_phases,
    )

    coef = np.array([0.3, 0.0, -0.2, 0.0, 0.0, 0.0, 0.1])
    x = np.linspace(-1, 1, 17)
    np.testing.assert_allclose(
        qsp_response(symmetric_qsp_phases(coef), x), cheb.chebval(x, coef), atol=1e-12
    )
    with pytest.raises(ValueError, match="must have a definite parity"):
        symmetric_qsp_phases([0.1, 0.2])
    with pytest.raises(ValueError, match="must be finite and non-empty"):
        symmetric_qsp_phases([0.0, np.nan])
    with pytest.raises(AngleSolverError, match="did not converge"):
        symmetric_qsp_phases([0.0, 1.5])  # |P| > 1: no QSP phases exist


def test_qsvt_response_is_pennylanes_qsvt():
    import pennylane as qml

    rng = np.random.default_rng(5)
    for degree in (1, 2, 7):
        angles = rng.uniform(-np.pi, np.pi, degree + 1)
        x = rng.uniform(-1, 1, 4)
        expected = [
            qml.matrix(
                qml.QSVT(
                    qml.BlockEncode(np.array([[v]]), wires=0),
                    [qml.PCPhase(a, dim=1, wires=0) for a in angles],
                ),
                wire_order=[0],
            )[0, 0].real
            for v in x
        ]
        np.testing.assert_allclose(
            _pennylane.qsvt_response(angles, x), expected, atol=1e-13
        )


def test_circuit_matches_emulator_above_degree_100():
    """kappa = 10 needs degree 111: past the old monomial-angle limit of 51."""
    K, Y, K_star = _pl_system(8, seed=4)
    pl = PennyLaneSolver(epsilon=1e-2, kappa=10.0, random_state=0).fit(
        K, Y, k_thresh=2.0
    )
    assert pl.degree_ > 100 and pl.angle_error_ < 1e-12
    emu = QSVTSolver(epsilon=1e-2, kappa=10.0, alpha=pl.alpha_).fit(K, Y, k_thresh=2.0)
    assert emu.degree_ == pl.degree_
    np.testing.assert_allclose(
        pl.success_probability_, emu.success_probability_, rtol=1e-9
    )
    np.testing.assert_allclose(
        pl.decision_function(K_star),
        emu.decision_function(K_star),
        rtol=1e-8,
        atol=1e-10,
    )
    sol, tol = exact_tolerance(K, Y, K_star, 1e-2)
    assert np.all(np.abs(pl.decision_function(K_star) - K_star @ sol) <= tol + 1e-9)


def test_padding_warns_and_keeps_the_solution():
    K, Y, K_star = _pl_system(6, seed=3)
    with pytest.warns(PaddingWarning, match="padded to 8"):
        pl = PennyLaneSolver(epsilon=PL_EPS, kappa=PL_KAPPA).fit(K, Y, k_thresh=2.0)
    emu = QSVTSolver(epsilon=PL_EPS, kappa=PL_KAPPA, alpha=pl.alpha_).fit(
        K, Y, k_thresh=2.0
    )
    assert np.allclose(pl.post_selected_states_[6:], 0, atol=1e-8)
    np.testing.assert_allclose(
        pl.decision_function(K_star),
        emu.decision_function(K_star),
        rtol=1e-6,
        atol=1e-8,
    )


def test_pennylane_limits():
    with pytest.raises(
        ValueError, match=r"at most 64 training samples; got n_samples=65"
    ):
        PennyLaneSolver().fit(np.eye(65), np.ones(65))
    with pytest.raises(ValueError, match=r"degree \d+, above `max_degree`=5"):
        PennyLaneSolver(kappa=3.0, max_degree=5).fit(np.eye(4), np.ones(4))
    with pytest.raises(ValueError, match=r"device.*qiskit"):
        PennyLaneSolver(device="qiskit").fit(np.eye(4), np.ones(4))


# --------------------------------------------------------------------------- resources
def _check_resources(r, solver, K, Y):
    n = K.shape[0]
    assert isinstance(r, QuantumResources) and r.solver == type(solver).__name__
    assert r.n == n and r.n_targets == Y.shape[1]
    assert r.kappa >= 1 and r.alpha >= np.abs(np.linalg.eigvalsh(K)).max()
    assert r.degree == inverse_polynomial(r.kappa, r.epsilon).degree == r.qsvt_queries
    assert r.system_qubits == math.ceil(math.log2(n))
    assert r.qubits == r.system_qubits + r.ancilla_qubits
    assert 0 < r.success_probability <= 1
    # P <= n * max|k_i|^2 for every scale: n/P >= 1 after the row-max rescaling.
    assert 1 <= r.post_selection_rowmax <= r.post_selection_paper
    assert r.post_selection_paper <= r.post_selection_kthresh
    assert r.readout_measurements >= 0
    assert r.qsvt_queries_per_state >= r.degree
    assert r.hhl_queries_per_state == pytest.approx(r.kappa**2 / r.epsilon)
    assert r.classical_iterations > 0
    assert r.classical_flops == 2 * r.nnz * r.classical_iterations
    d = r.as_dict()
    assert d["degree"] == r.degree and len(d) == 27 and r.classical_converged
    assert "degree" in str(r) and "classical_flops" in str(r)


@pytest.mark.parametrize(
    "make",
    [
        lambda: ExactSolver(),
        lambda: IterativeSolver(),
        lambda: QSVTSolver(),
        lambda: QSVTSolver(alpha="sparse"),
    ],
)
def test_resources_for_every_solver(make, rng):
    n = 32
    K = kernel_like(n, seed=8)
    Y = rng.normal(size=(n, 2))
    probe = np.array([0, 5, 9])
    K_probe = K[probe] + 0.01
    solver = make().fit(K, Y)
    r = estimate_quantum_resources(solver, K, Y, K_probe, 1.0, probe_index=probe)
    _check_resources(r, solver, K, Y)
    if isinstance(solver, QSVTSolver):
        assert r.degree == solver.degree_ and r.kappa == solver.kappa_
        expected_ancillas = (r.system_qubits + 3 if solver.alpha == "sparse" else 1) + 2
        assert r.ancilla_qubits == expected_ancillas
    else:
        assert r.epsilon == 1e-3 and r.ancilla_qubits == 3
    assert r.classical_method == "cg"
    # Leave-one-out: the probe's own column is dropped before forming |k*>.
    K_loo = K_probe.copy()
    K_loo[np.arange(3), probe] = 0
    k, P = clip_kernel_rows(K_loo, 1.0)
    assert r.post_selection_kthresh == pytest.approx(np.median(n / P))
    row_max = np.abs(k).max(axis=1)
    assert r.post_selection_rowmax == pytest.approx(np.median(n * row_max**2 / P))
    assert r.post_selection_paper == pytest.approx(
        np.median(n * row_max.max() ** 2 / P)
    )
    assert r.max_abs_entry == np.abs(K).max()
    assert np.all(K_probe[np.arange(3), probe] == K[probe, probe] + 0.01)  # not edited


@pytest.mark.slow  # shares the ~10-25 s PennyLane fixture (angles, circuits)
def test_resources_for_pennylane(pl_fits):
    K, Y, K_star, pl, _ = pl_fits[8]
    r = estimate_quantum_resources(pl, K, Y, K_star, 2.0)
    _check_resources(r, pl, K, Y)
    assert r.ancilla_qubits == 3 and r.qubits == pl.n_qubits_ and r.degree == pl.degree_


def test_resources_on_sparse_input_and_errors(rng):
    n = 64
    K = sp.csr_matrix(kernel_like(n, seed=9))
    y = rng.normal(size=n)
    s = QSVTSolver().fit(K, y)
    r = estimate_quantum_resources(s, K, y, K[:4].toarray(), 1.0, probe_index=range(4))
    assert r.nnz == K.nnz and r.s == np.diff(K.indptr).max()
    with pytest.raises(ValueError, match=r"`K_probe` must have shape \(n_probe, 64\)"):
        estimate_quantum_resources(s, K, y, np.ones((2, 3)), 1.0)
    with pytest.raises(ValueError, match=r"`probe_index` must have one entry per row"):
        estimate_quantum_resources(s, K, y, np.ones((2, n)), 1.0, probe_index=[0])
    with pytest.raises(ValueError, match=r"`k_thresh` must be a positive .* got 0"):
        estimate_quantum_resources(s, K, y, np.ones((2, n)), 0)


def test_resources_of_a_singular_system_with_a_classical_solver():
    from qntk_sklearn.solvers import SingularSystemWarning

    K = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # duplicates
    y = np.array([1.0, 1.0, -1.0])
    with pytest.warns(SingularSystemWarning):
        solver = ExactSolver().fit(K, y)
    r = estimate_quantum_resources(solver, K, y, K, 1.0, probe_index=[0, 1, 2])
    assert r.kappa == math.inf and r.degree == 0 and math.isnan(r.alpha)
    assert r.hhl_queries_per_state == math.inf and r.classical_method == "lstsq"
    with pytest.raises(ValueError, match="`K` is singular"):
        QSVTSolver().fit(K, y)


def test_ill_conditioned_systems_fail_cleanly():
    K = np.diag([1.0, 1e-9, -1.0])
    y = np.ones(3)
    with pytest.raises(ValueError, match=r"kappa=1e\+09 .* needs a polynomial"):
        QSVTSolver().fit(K, y)
    r = estimate_quantum_resources(ExactSolver().fit(K, y), K, y, K, 1.0)
    assert r.degree == inverse_degree_bound(r.kappa, 1e-3) > 20_000
    assert math.isnan(r.success_probability) and r.qsvt_queries_per_state == math.inf


def test_resources_reference_solve_never_warns():
    """A hopeless reference CG/MINRES run stops at its cap without a warning."""
    rng = np.random.default_rng(3)
    n = 40
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    K = Q @ np.diag(np.logspace(-7, 0, n) * rng.choice([-1, 1], n)) @ Q.T
    K = (K + K.T) / 2
    y = rng.normal(size=n)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = estimate_quantum_resources(ExactSolver().fit(K, y), K, y, K[:2], 1.0)
    assert r.classical_iterations <= 10 * n
