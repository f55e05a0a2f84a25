"""depth="auto": the separation (exact, float32 first pass), duplicates, L_conv."""

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest

import qntk_sklearn
from qntk_sklearn import (
    DuplicateSamplesWarning,
    QuantumNTKClassifier,
    QuantumNTKRegressor,
    convergence_depth,
    separation,
)
from qntk_sklearn.estimators import _depth


def all_pairs_separation(X, block_rows=1024):
    """The previous implementation: every pair, float64, no symmetry (the oracle)."""
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    if n < 2:
        return 1.0
    norms = np.linalg.norm(X, axis=1)
    U = X / np.where(norms > 0, norms, 1.0)[:, None]
    best = 1.0
    for start in range(0, n, block_rows):
        cos = np.abs(U[start : start + block_rows] @ U.T)
        idx = np.arange(start, min(start + block_rows, n))
        cos[idx - start, idx] = 0.0
        best = min(best, 1.0 - float(cos.max()))
    return max(best, 0.0)


def ulps(d):
    """How far two float64 evaluations of one unit dot product of length d may differ
    (any summation order: 2 gamma_d). The all-pairs oracle itself moves by one or two
    units in the last place when only its block size changes."""
    return 2 * d * 2.0**-53


@pytest.fixture
def small_tiles(monkeypatch):
    """Tiles of 16 rows, so that small inputs cross many tiles and the diagonal."""
    monkeypatch.setattr(_depth, "_TILE", 16)


def _data(kind, rng):
    if kind == "gaussian":
        return rng.normal(size=(150, 12))
    if kind == "positive":  # MNIST-like: all cosines positive, some close to 1
        return np.abs(rng.normal(size=(150, 40))) + 0.5
    if kind == "near_duplicates":
        X = rng.normal(size=(150, 12))
        X[77] = X[3] + 1e-6 * rng.normal(size=12)  # delta ~ 1e-12 .. 1e-13
        X[100] = -X[20] * 3.0 + 1e-4 * rng.normal(size=12)  # nearly antipodal
        return X
    if kind == "zero_rows":
        X = rng.normal(size=(150, 12))
        X[[4, 90]] = 0.0
        return X
    if kind == "few_features":  # many pairs near |cos| = 1
        return rng.normal(size=(150, 2))
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind", ["gaussian", "positive", "near_duplicates", "zero_rows", "few_features"]
)
@pytest.mark.parametrize("tiles", ["one", "many"])
def test_separation_equals_the_all_pairs_float64_computation(kind, tiles, request):
    if tiles == "many":
        request.getfixturevalue("small_tiles")
    X = _data(kind, np.random.default_rng(0))
    expected = all_pairs_separation(X)
    assert separation(X) == pytest.approx(expected, rel=0, abs=ulps(X.shape[1]))
    if tiles == "one":
        return
    # And it finds the same pair: the oracle's minimiser, checked exactly.
    info = _depth._separation_info(X)
    i, j = info.pair
    exact = [_exact_abs_cos(X, a, b) for a in range(len(X)) for b in range(a)]
    assert 1 - float(max(exact)) == pytest.approx(
        1 - float(_exact_abs_cos(X, i, j)), abs=ulps(X.shape[1])
    )


def _exact_abs_cos(X, a, b):
    """|cos| of rows a and b of the float64 unit rows, in exact rational arithmetic."""
    norms = np.linalg.norm(X[[a, b]], axis=1)
    if norms.min() == 0:
        return Fraction(0)
    u, v = X[a] / norms[0], X[b] / norms[1]
    return abs(sum(Fraction(p) * Fraction(q) for p, q in zip(u, v, strict=True)))


def test_separation_of_duplicates_antipodes_and_zero_rows():
    r = np.random.default_rng(3)
    X = r.normal(size=(30, 5))
    base = separation(X)
    assert 0 < base < 1
    for twin in (X[7], 2.0 * X[7], 3.0 * X[7], -X[7], -0.1 * X[7]):
        Y = np.vstack([X, twin])
        assert separation(Y) == pytest.approx(0.0, abs=1e-15)  # the paper's
        assert separation(Y, distinct=True) == base
    # Zero rows are orthogonal to everything, each other included (as before)...
    Z = np.vstack([X, np.zeros((1, 5))])
    assert separation(Z) == base
    # ...but two of them are the same row, and count as duplicates.
    Z2 = np.vstack([Z, np.zeros((1, 5)), -np.zeros((1, 5))])
    info = _depth._separation_info(Z2)
    assert (info.n_samples, info.n_distinct, info.n_identical) == (33, 31, 2)
    assert info.delta == base and info.delta_distinct == base
    # Fewer than two distinct rows: nothing to separate.
    assert separation(np.ones((4, 3)), distinct=True) == 1.0
    assert separation(np.ones((4, 3))) == 0.0
    assert separation(np.ones((1, 3))) == 1.0


def test_separation_counts_duplicates_by_kind():
    r = np.random.default_rng(4)
    X = r.normal(size=(20, 6))
    Y = np.vstack([X, X[2], X[2], 2.0 * X[3], -X[4], 3.0 * X[5]])
    info = _depth._separation_info(Y)
    assert info.n_samples == 25
    assert info.n_identical == 2  # the two copies of X[2]
    assert info.n_distinct == 20  # all five extra rows repeat a direction
    assert info.delta_distinct == separation(X, distinct=True)


def test_ties_fall_back_to_float64_tiles(monkeypatch):
    # Orthonormal rows: every |cos| is 0, every pair is a candidate.
    assert separation(np.eye(50)) == 1.0
    monkeypatch.setattr(_depth, "_MAX_CANDIDATES", 3)
    monkeypatch.setattr(_depth, "_TILE", 16)
    X = _data("near_duplicates", np.random.default_rng(5))
    assert separation(X) == pytest.approx(all_pairs_separation(X), abs=ulps(12))
    info = _depth._separation_info(np.vstack([X, 2 * X[:3]]))
    assert info.n_distinct == 150


def test_separation_does_not_depend_on_n_jobs(small_tiles):
    X = _data("positive", np.random.default_rng(6))
    X = np.vstack([X, X[:5]])
    a = _depth._separation_info(X)
    b = _depth._separation_info(X, n_jobs=2)
    assert a == b


def test_separation_memory_is_bounded():
    import tracemalloc

    X = np.random.default_rng(7).normal(size=(3000, 30))
    tracemalloc.start()
    separation(X)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # One float32 tile of 2048^2 and its masks, not an n x n float64 array (72 MB).
    assert peak < 40e6


def test_public_names_and_convergence_depth():
    assert qntk_sklearn.separation is _depth.separation
    assert qntk_sklearn.convergence_depth is _depth.convergence_depth
    assert issubclass(DuplicateSamplesWarning, UserWarning)
    assert convergence_depth(40, 0.0) == convergence_depth(40, 1e-12)
    with pytest.raises(ValueError, match="2-D array"):
        separation(np.ones(3))


@pytest.mark.parametrize("Estimator", [QuantumNTKClassifier, QuantumNTKRegressor])
@pytest.mark.filterwarnings("ignore::qntk_sklearn.DiagonalKernelWarning")
@pytest.mark.filterwarnings("ignore::qntk_sklearn.SingularSystemWarning")
@pytest.mark.filterwarnings("ignore::qntk_sklearn.CollapsedSolutionWarning")
def test_auto_depth_ignores_a_duplicated_row(Estimator):
    # Issue 8: X[5] = X[4] made delta = 0 and depth jump from 53 to 290.
    r = np.random.default_rng(1)
    X = r.normal(size=(40, 10))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    y = np.repeat([0, 1], 20)
    X[5] = X[4]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DuplicateSamplesWarning)
        without = Estimator(depth="auto").fit(np.delete(X, 5, axis=0), np.delete(y, 5))
    without = without.depth_
    with pytest.warns(
        DuplicateSamplesWarning,
        match=r"1 of the 40 training rows repeat another row \(1 identical, 0 equal "
        r"up to a scale factor or sign\); depth='auto' ignored them .* 39 distinct "
        r"rows .*singular",
    ):
        clf = Estimator(depth="auto").fit(X, y)
    assert clf.depth_ == without
    L_conv = convergence_depth(39, separation(np.delete(X, 5, axis=0)))
    assert clf.depth_ == round(0.1 * L_conv)


def test_auto_depth_ignores_scaled_and_antipodal_rows():
    r = np.random.default_rng(2)
    X = r.normal(size=(30, 8))
    y = np.repeat([0, 1], 15)
    ref = QuantumNTKClassifier(sparsity="none").fit(X, y).depth_
    Y = np.vstack([X, 3.0 * X[0], -X[1]])
    with pytest.warns(DuplicateSamplesWarning, match=r"2 of the 32 .*0 identical, 2"):
        clf = QuantumNTKClassifier(sparsity="none").fit(Y, np.r_[y, 0, 0])
    assert clf.depth_ == ref
    # A given depth computes no separation and so says nothing.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the solver's own warnings about the pair
        warnings.simplefilter("error", DuplicateSamplesWarning)
        QuantumNTKClassifier(depth=5).fit(Y, np.r_[y, 0, 0])


def test_depth_rule_is_unchanged_without_duplicates():
    r = np.random.default_rng(8)
    X = r.normal(size=(60, 10))
    y = np.repeat([0, 1], 30)
    delta = all_pairs_separation(X)
    L_conv = (
        8 * math.log(60 / delta) / qntk_sklearn.kernels.nonlinearity_coefficient("erf")
    )
    assert QuantumNTKClassifier().fit(X, y).depth_ == round(0.1 * L_conv)
