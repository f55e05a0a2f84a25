"""The estimators' predictor: ridge, finite training time, sample weights, calibration,
defaults, and the diagnostics of degenerate models (issue 8)."""

import math
import time

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    make_circles,
    make_classification,
)
from sklearn.kernel_ridge import KernelRidge
from sklearn.model_selection import KFold, cross_val_score, train_test_split
from sklearn.preprocessing import Normalizer, StandardScaler

from qntk_sklearn import (
    MAX_DEPTH,
    DiagonalKernelWarning,
    DuplicateSamplesWarning,
    FullyConnectedNTK,
    IndefiniteKernelWarning,
    QuantumNTKClassifier,
    QuantumNTKRegressor,
    SingularSystemWarning,
)
from qntk_sklearn.solvers import QSVTSolver


@pytest.fixture(scope="module")
def regression():
    r = np.random.default_rng(3)
    X = r.normal(size=(60, 4))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] + 0.1 * r.normal(size=60)
    return X[:45], y[:45], X[45:]


def _eigen_predict(K, K_star, Y, time_):
    """Dense eigendecomposition oracle of ``K_star K^-1 (I - exp(-time K)) Y``."""
    w, V = np.linalg.eigh(K)
    Y2 = Y[:, None] if Y.ndim == 1 else Y
    out = K_star @ V @ ((-np.expm1(-time_ * w) / w)[:, None] * (V.T @ Y2))
    return out[:, 0] if Y.ndim == 1 else out


# --------------------------------------------------------------------------- diag_reg
@pytest.mark.parametrize("diag_reg", [1e-3, 0.1, 2.0])
def test_diag_reg_is_kernel_ridge(regression, diag_reg):
    X, y, X_test = regression
    reg = QuantumNTKRegressor(depth=3, sparsity="none", diag_reg=diag_reg).fit(X, y)
    k = FullyConnectedNTK(depth=3)
    K = k(X)
    alpha = diag_reg * np.mean(np.diag(K))  # neural-tangents' relative convention
    kr = KernelRidge(kernel="precomputed", alpha=alpha).fit(K, y - y.mean())
    np.testing.assert_allclose(
        reg.predict(X_test), kr.predict(k(X_test, X)) + y.mean(), rtol=1e-9
    )
    np.testing.assert_allclose(
        np.diag(reg.kernel_), np.diag(K) + alpha, rtol=1e-12
    )  # kernel_ is the matrix solved


def test_diag_reg_applies_to_the_sparsified_matrix(digits_small):
    X, y = digits_small
    plain = QuantumNTKClassifier(depth=40, random_state=0).fit(X, y)
    ridged = QuantumNTKClassifier(depth=40, diag_reg=0.5, random_state=0).fit(X, y)
    assert sp.issparse(ridged.kernel_)
    lam = 0.5 * plain.kernel_.diagonal().mean()
    np.testing.assert_allclose(
        (ridged.kernel_ - plain.kernel_).toarray(), lam * np.eye(400), atol=1e-9 * lam
    )
    Y = np.where(y[:, None] == plain.classes_[None, :], 1.0, -1.0)
    expected = FullyConnectedNTK(depth=40)(X[:20], X) @ np.linalg.solve(
        ridged.kernel_.toarray(), Y - Y.mean(axis=0)
    )
    np.testing.assert_allclose(
        ridged.decision_function(X[:20]) * ridged.decision_scale_, expected, rtol=1e-7
    )


# ------------------------------------------------------------------------ sample_weight
def test_sample_weight_is_weighted_kernel_ridge(regression):
    X, y, X_test = regression
    w = np.random.default_rng(4).uniform(0.2, 3.0, size=y.size)
    reg = QuantumNTKRegressor(depth=3, diag_reg=0.3).fit(X, y, sample_weight=w)
    k = FullyConnectedNTK(depth=3)
    K = k(X)
    mean = np.average(y, weights=w)
    alpha = 0.3 * np.average(np.diag(K), weights=w)
    kr = KernelRidge(kernel="precomputed", alpha=alpha)
    kr.fit(K, y - mean, sample_weight=w)
    np.testing.assert_allclose(
        reg.predict(X_test), kr.predict(k(X_test, X)) + mean, rtol=1e-8
    )


@pytest.mark.parametrize("solver", ["exact", "iterative", "qsvt"])
def test_sample_weight_on_the_sparse_path_and_quantum_solvers(digits_small, solver):
    X, y = digits_small
    X, y = X[y < 2], y[y < 2]
    X_q, X, y = X[:15], X[15:], y[15:]  # queries not in the training set (clipping)
    w = np.random.default_rng(5).uniform(0.5, 2.0, size=y.size)
    solver_obj = QSVTSolver(epsilon=1e-6) if solver == "qsvt" else solver
    clf = QuantumNTKClassifier(
        depth=40, diag_reg=0.1, solver=solver_obj, random_state=0
    )
    clf.fit(X, y, sample_weight=w)
    assert sp.issparse(clf.kernel_)
    # Oracle: (K_tilde + lambda W^-1)^-1 (y - weighted mean) on the same pattern.
    unweighted = QuantumNTKClassifier(depth=40, random_state=0).fit(X, y)
    K_tilde = unweighted.kernel_.toarray()
    lam = 0.1 * np.average(np.diag(K_tilde), weights=w)
    Y = np.where(y == 1, 1.0, -1.0)
    a = np.linalg.solve(K_tilde + lam * np.diag(1 / w), Y - np.average(Y, weights=w))
    expected = FullyConnectedNTK(depth=40)(X_q, X) @ a
    got = clf.decision_function(X_q) * clf.decision_scale_
    np.testing.assert_allclose(got, expected, rtol=1e-5 if solver == "qsvt" else 1e-7)
    assert (clf.kernel_ != 0).nnz == (unweighted.kernel_ != 0).nnz  # same pattern


def test_zero_weight_leaves_the_sample_out(regression):
    X, y, X_test = regression
    w = np.ones(y.size)
    w[[3, 10]] = 0.0
    a = QuantumNTKRegressor(depth=3).fit(X, y, sample_weight=w)
    b = QuantumNTKRegressor(depth=3).fit(
        np.delete(X, [3, 10], 0), np.delete(y, [3, 10])
    )
    np.testing.assert_allclose(a.predict(X_test), b.predict(X_test), rtol=1e-10)
    np.testing.assert_array_equal(a.support_, np.delete(np.arange(y.size), [3, 10]))
    # Precomputed: the kept columns of a test kernel are used.
    k = FullyConnectedNTK(depth=3)
    c = QuantumNTKRegressor(architecture="precomputed").fit(k(X), y, sample_weight=w)
    np.testing.assert_allclose(c.predict(k(X_test, X)), b.predict(X_test), rtol=1e-9)


# --------------------------------------------------------------------------- finite t
@pytest.mark.parametrize("t", [0.5, 30.0, 3000.0])
def test_finite_time_matches_a_dense_eigendecomposition(regression, t):
    X, y, X_test = regression
    reg = QuantumNTKRegressor(depth=3, diag_reg=0.01, t=t).fit(X, y)
    k = FullyConnectedNTK(depth=3)
    K = k(X)
    K = K + 0.01 * np.mean(np.diag(K)) * np.eye(len(y))
    # neural-tangents' convention: the flow is exp(-t K / y_train.size).
    expected = _eigen_predict(K, k(X_test, X), y - y.mean(), t / y.size) + y.mean()
    np.testing.assert_allclose(reg.predict(X_test), expected, rtol=1e-8)


def test_finite_time_multiclass_normalises_by_the_target_size(digits_small):
    X, y = digits_small
    X, y = X[:120], y[:120]
    clf = QuantumNTKClassifier(depth=20, sparsity="none", t=200.0).fit(X, y)
    k = FullyConnectedNTK(depth=20)
    Y = np.where(y[:, None] == clf.classes_[None, :], 1.0, -1.0)
    expected = _eigen_predict(k(X), k(X[:9], X), Y - Y.mean(0), 200.0 / Y.size)
    np.testing.assert_allclose(
        clf.decision_function(X[:9]) * clf.decision_scale_, expected, rtol=1e-8
    )


@pytest.mark.parametrize("solver", ["exact", "iterative", "qsvt"])
def test_finite_time_on_the_sparse_path(digits_small, solver):
    X, y = digits_small
    X, y = X[y < 2], y[y < 2]
    X_q, X, y = X[:15], X[15:], y[15:]
    solver_obj = QSVTSolver(epsilon=1e-6) if solver == "qsvt" else solver
    # The kernel's scale at depth 40 is ~1.4e4: t = 0.02 (t mean(diag K) / N ~ 4) is
    # mid-training.
    clf = QuantumNTKClassifier(depth=40, t=0.02, solver=solver_obj, random_state=0)
    clf.fit(X, y)
    K_tilde = clf.kernel_.toarray()  # positive definite at this depth
    Y = np.where(y == 1, 1.0, -1.0)
    expected = _eigen_predict(
        K_tilde, FullyConnectedNTK(depth=40)(X_q, X), Y - Y.mean(), 0.02 / y.size
    )
    got = clf.decision_function(X_q) * clf.decision_scale_
    np.testing.assert_allclose(got, expected, rtol=1e-5 if solver == "qsvt" else 1e-7)
    if solver == "qsvt":
        r = clf.quantum_resources_
        assert r.degree == clf.solver_.degree_ and r.degree < 200


# --------------------------------------------------------------------------- item 1
def test_duplicate_training_row_is_not_a_silent_wrong_answer():
    # One duplicated row used to give decisions all exactly 0.0 and every prediction
    # classes_[0] (accuracy 0.495 instead of 0.805), without a warning.
    X, y = make_classification(n_samples=240, random_state=0)
    X_train, y_train = X[:40].copy(), y[:40].copy()
    X_train[5], y_train[5] = X_train[4], y_train[4]
    # depth="auto" now ignores the copy for the separation (depth 49, not 290) and
    # says so (issue 9's DuplicateSamplesWarning, also naming the singular system).
    clf = QuantumNTKClassifier(depth="auto", random_state=0)
    with pytest.warns(DuplicateSamplesWarning, match=r"1 of the 40 .*singular"):
        clf.fit(X_train, y_train)
    decisions = clf.decision_function(X[40:])
    assert np.ptp(decisions) > 0
    assert clf.score(X[40:], y[40:]) >= 0.75
    # At the depth "auto" used to pick, the solver names the duplicate rows itself.
    deep = QuantumNTKClassifier(depth=290, random_state=0)
    with pytest.warns(
        SingularSystemWarning,
        match=r"Rows 4 and 5 of K are duplicates.*Remove duplicate training rows.*"
        r"`diag_reg`.*smaller `depth`",
    ):
        deep.fit(X_train, y_train)
    assert np.ptp(deep.decision_function(X[40:])) > 0
    assert deep.score(X[40:], y[40:]) >= 0.75
    # The remedy named: a ridge.
    ridged = QuantumNTKClassifier(depth=290, diag_reg=1e-6, random_state=0)
    ridged.fit(X_train, y_train)
    assert ridged.score(X[40:], y[40:]) >= 0.75


# --------------------------------------------------------------------------- item 3
@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True)


@pytest.mark.parametrize("sparsity", ["none", "random", "diagonal"])
def test_diagonal_kernel_regression_warns(diabetes, sparsity):
    X, y = diabetes
    reg = QuantumNTKRegressor(
        depth="auto", sparsity=sparsity, diag_reg=0.0, random_state=0
    )
    with pytest.warns(
        DiagonalKernelWarning,
        match=r"effectively diagonal at depth=\d+: off-diagonal/diagonal = .* < "
        r"1e-06 .*training mean.*smaller `depth`",
    ):
        reg.fit(X[:300], y[:300])
    assert reg.offdiagonal_ratio_ < 1e-6
    spread = np.ptp(reg.predict(X[300:]))
    assert spread < 1e-4 * np.ptp(y)  # the warning is right: the mean, flat


def test_indefinite_sparsified_regression_warns(diabetes):
    X, y = diabetes
    X = StandardScaler().fit_transform(X)
    reg = QuantumNTKRegressor(depth=2, sparsity="random", diag_reg=0.0, random_state=0)
    with pytest.warns(
        IndefiniteKernelWarning,
        match=r"sparsity='random'\) kernel at depth=2 is indefinite \(lambda_min = -"
        r".*deeper network.*sparsity='none'.*`diag_reg` >",
    ):
        reg.fit(X[:300], y[:300])
    assert reg.score(X[300:], y[300:]) < -1  # what the warning is about
    assert not reg.kernel_.diagonal().min() < 0


def test_depth_cap_is_a_fast_clear_error(blobs):
    X, y = blobs
    start = time.perf_counter()
    with pytest.raises(
        ValueError,
        match=rf"`depth` must be at most MAX_DEPTH = {MAX_DEPTH}; got 1000000",
    ):
        QuantumNTKClassifier(depth=10**6).fit(X, y)
    with pytest.raises(
        ValueError, match=r"`depth_factor`=1000000.0 gives depth=\d+ .*MAX_DEPTH"
    ):
        QuantumNTKClassifier(depth_factor=1e6).fit(X, y)
    assert time.perf_counter() - start < 5  # used to run for minutes


@pytest.mark.parametrize(
    "scale, match",
    [
        (1e-170, r"squared norms of 60 rows of `X` underflow float64"),
        (1e170, r"squared norms of 60 rows of `X` overflow float64"),
    ],
)
def test_inputs_out_of_float64_range_are_named(blobs, scale, match):
    X, y = blobs
    with pytest.raises(ValueError, match=match + r".*StandardScaler or Normalizer"):
        QuantumNTKClassifier(depth=10).fit(X * scale, y)


def test_zero_kernel_is_an_error():
    X = np.zeros((6, 3))
    with pytest.raises(ValueError, match=r"kernel of the training set is zero.*b_std"):
        QuantumNTKRegressor().fit(X, np.arange(6.0))
    with pytest.raises(ValueError, match=r"kernel of the training set is zero"):
        QuantumNTKRegressor(architecture="precomputed").fit(
            np.zeros((4, 4)), np.ones(4)
        )


# --------------------------------------------------------------------------- calibrate
def test_sigmoid_calibration_gives_varying_probabilities():
    # Held-out decision values of the paper's deep network are ~1e-8 (training ones
    # +-1): Platt scaling's L-BFGS stopped at slope 0 and returned one constant
    # probability (accuracy 0.63 instead of 0.92). decision_scale_ fixes it.
    X, y = load_breast_cancer(return_X_y=True)
    X = Normalizer().fit_transform(StandardScaler().fit_transform(X))
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0, stratify=y)
    clf = QuantumNTKClassifier(random_state=0).fit(X_tr, y_tr)
    assert clf.decision_scale_ < 1e-5
    cal = CalibratedClassifierCV(
        QuantumNTKClassifier(random_state=0), method="sigmoid"
    ).fit(X_tr, y_tr)
    proba = cal.predict_proba(X_te)[:, 1]
    assert np.unique(proba.round(8)).size > 50
    assert abs(cal.score(X_te, y_te) - clf.score(X_te, y_te)) <= 0.01
    # Predictions are unchanged by the scale.
    raw = clf._raw_decision(X_te)[:, 0]
    np.testing.assert_array_equal(
        clf.predict(X_te), clf.classes_[(raw > 0).astype(int)]
    )


# --------------------------------------------------------------------------- item 7
def test_default_regressor_is_useful_on_diabetes(diabetes):
    X, y = diabetes
    cv = KFold(5, shuffle=True, random_state=0)
    r2 = cross_val_score(QuantumNTKRegressor(), X, y, cv=cv).mean()
    assert r2 > 0.45  # was -0.001 with the paper's regime as default


def test_paper_regime_is_one_argument_away(diabetes):
    import inspect

    from qntk_sklearn import PAPER_REGIME

    # The classifier's defaults are the paper's regime ...
    defaults = QuantumNTKClassifier().get_params()
    assert {k: defaults[k] for k in PAPER_REGIME} == dict(PAPER_REGIME)
    with pytest.raises(TypeError):
        PAPER_REGIME["depth"] = 3  # read-only
    # ... and one argument turns the useful regressor into it, with the warning.
    X, y = diabetes
    reg = QuantumNTKRegressor(**PAPER_REGIME, random_state=0)
    with pytest.warns(DiagonalKernelWarning, match="training mean"):
        reg.fit(X[:300], y[:300])
    assert QuantumNTKRegressor().set_params(**PAPER_REGIME).get_params() == (
        reg.set_params(random_state=None).get_params()
    )
    # Both estimators take the same parameters with the same defaults, except the
    # regressor's documented depth, sparsity and ridge (it lacked `thresholds`, and
    # its threshold percentile was 50 where the docstring and the authors say 90).
    clf_sig = inspect.signature(QuantumNTKClassifier).parameters
    reg_sig = inspect.signature(QuantumNTKRegressor).parameters
    assert list(clf_sig) == list(reg_sig)
    differ = {k for k in clf_sig if clf_sig[k].default != reg_sig[k].default}
    assert differ == set(PAPER_REGIME)


def test_odd_network_cannot_learn_circles_until_b_std_is_positive():
    X, y = make_circles(n_samples=400, noise=0.05, factor=0.5, random_state=0)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0)
    # (A ridge: a 2-d input's exact kernel is numerically singular.)
    odd = QuantumNTKClassifier(depth=4, sparsity="none", diag_reg=1e-3)
    odd.fit(X_tr, y_tr)
    # erf is odd and b_std = 0: f(-x) = -f(x) exactly, but x and -x lie on the same
    # circle, so the model stays at chance.
    np.testing.assert_array_equal(
        odd.decision_function(-X_te), -odd.decision_function(X_te)
    )
    assert odd.score(X_te, y_te) < 0.65
    biased = QuantumNTKClassifier(depth=4, sparsity="none", diag_reg=1e-3, b_std=0.5)
    biased.fit(X_tr, y_tr)
    assert biased.score(X_te, y_te) > 0.95


@pytest.mark.parametrize(
    "params, match",
    [
        ({"diag_reg": -1.0}, "'diag_reg' parameter"),
        ({"t": 0.0}, "'t' parameter"),
        ({"t": -2.0}, "'t' parameter"),
    ],
)
def test_bad_new_parameters(regression, params, match):
    X, y, _ = regression
    with pytest.raises(ValueError, match=match):
        QuantumNTKRegressor(**params).fit(X, y)


def test_time_convention_is_documented_relative_to_y_size(regression):
    # The loss is sum_i w_i (f - y)^2 / (2 sum_i w_i): weights all 2 are the same
    # flow as weights all 1 at the same t (and as every point twice).
    X, y, X_test = regression
    a = QuantumNTKRegressor(depth=3, diag_reg=0.0, t=10.0).fit(X, y)
    b = QuantumNTKRegressor(depth=3, diag_reg=0.0, t=10.0)
    b.fit(X, y, sample_weight=np.full(y.size, 2.0))
    assert math.isclose(
        b._solver_time(np.full(y.size, 2.0), y.size, 1), 10 / (2 * y.size)
    )
    np.testing.assert_allclose(a.predict(X_test), b.predict(X_test), rtol=1e-8)
    c = QuantumNTKRegressor(depth=3, diag_reg=0.0, t=10.0).fit(
        np.repeat(X, 2, axis=0), np.repeat(y, 2)
    )
    np.testing.assert_allclose(c.predict(X_test), a.predict(X_test), rtol=1e-6)
