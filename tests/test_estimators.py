"""QuantumNTKClassifier / QuantumNTKRegressor: values, sparsity, sklearn integration."""

import math
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.gaussian_process.kernels import RBF
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer

from qntk_sklearn import (
    FullyConnectedNTK,
    IndefiniteKernelWarning,
    QuantumNTKClassifier,
    QuantumNTKRegressor,
    convergence_depth,
    separation,
)
from qntk_sklearn.kernels import nonlinearity_coefficient
from qntk_sklearn.solvers import ExactSolver, IterativeSolver


def _centred_targets(y, classes):
    Y = np.where(y[:, None] == classes[None, :], 1.0, -1.0)
    if classes.size == 2:
        Y = Y[:, 1:]
    return Y - Y.mean(axis=0)


@pytest.mark.parametrize("activation", ["erf", "relu"])
def test_exact_kernel_decision_equals_numpy_solve(blobs, activation):
    X, y = blobs
    Xtr, ytr, Xte = X[:40], y[:40], X[40:]
    clf = QuantumNTKClassifier(depth=6, activation=activation, sparsity="none")
    clf.fit(Xtr, ytr)
    k = FullyConnectedNTK(depth=6, activation=activation)
    Yc = _centred_targets(ytr, clf.classes_)
    expected = k(Xte, Xtr) @ np.linalg.solve(k(Xtr), Yc)
    np.testing.assert_allclose(clf.decision_function(Xte), expected[:, 0], rtol=1e-8)
    assert isinstance(clf.kernel_, np.ndarray)


def test_random_sparsity_solves_the_masked_kernel(digits_small):
    X, y = digits_small
    clf = QuantumNTKClassifier(depth=40, sparsity="random", random_state=0).fit(X, y)
    K_tilde = clf.kernel_
    assert sp.issparse(K_tilde)
    dense = K_tilde.toarray()
    K = FullyConnectedNTK(depth=40)(X)
    rows, cols = np.nonzero(dense)
    # Entries are the exact kernel's, within-class, symmetric, full diagonal.
    np.testing.assert_allclose(dense[rows, cols], K[rows, cols], rtol=1e-12)
    assert np.all(y[rows] == y[cols])
    np.testing.assert_array_equal(dense, dense.T)
    np.testing.assert_allclose(np.diag(dense), np.diag(K), rtol=1e-12)
    # About ln n off-diagonal entries per row (10 classes, each drawn within-class).
    mean_off = (K_tilde.nnz - X.shape[0]) / X.shape[0]
    assert 0.5 * math.log(400) < mean_off < 1.5 * math.log(400)
    assert clf.sparsity_ == np.count_nonzero(dense, axis=1).max()
    # Multiclass decision equals the oracle solve on the same matrix.
    Yc = _centred_targets(y, clf.classes_)
    expected = K[:50] @ np.linalg.solve(dense, Yc)
    scaled = clf.decision_function(X[:50]) * clf.decision_scale_
    np.testing.assert_allclose(scaled, expected, rtol=1e-7)
    assert clf.condition_number_ == pytest.approx(np.linalg.cond(dense), rel=1e-6)


def test_diagonal_and_threshold_sparsity(digits_small):
    X, y = digits_small
    diag = QuantumNTKClassifier(depth=40, sparsity="diagonal").fit(X, y)
    assert diag.sparsity_ == 1
    d = FullyConnectedNTK(depth=40).diag(X)
    np.testing.assert_allclose(diag.kernel_.diagonal(), d)
    thr = QuantumNTKClassifier(depth=8, sparsity="threshold", random_state=0).fit(X, y)
    with pytest.warns(IndefiniteKernelWarning, match="sparsity='random'.*depth=8"):
        rnd = QuantumNTKClassifier(depth=8, sparsity="random", random_state=0)
        rnd.fit(X, y)
    # Same pattern, fewer entries, conditioned diagonal (1 + 0.76 (ln n)^0.9).
    assert thr.kernel_.nnz < rnd.kernel_.nnz
    f = 0.76 * math.log(400) ** 0.9
    np.testing.assert_allclose(
        thr.kernel_.diagonal(), (1 + f) * rnd.kernel_.diagonal(), rtol=1e-12
    )
    assert thr.condition_number_ < rnd.condition_number_


class _RecordingNTK(FullyConnectedNTK):
    """Records the size of every kernel block it is asked to compute (in a class list,
    since the estimator works on a clone)."""

    calls = []

    def _block(self, X, Y):
        self.calls.append(("block", X.shape[0] * Y.shape[0]))
        return super()._block(X, Y)

    def _paired(self, X, Y):
        self.calls.append(("paired", X.shape[0]))
        return super()._paired(X, Y)


@pytest.mark.parametrize("sparsity", ["random", "diagonal", "threshold"])
def test_sparse_fit_never_evaluates_the_full_kernel(sparsity):
    n = 3000
    r = np.random.default_rng(0)
    X = r.normal(size=(n, 20))
    y = np.repeat([0, 1], n // 2)
    kernel = _RecordingNTK(depth=20)
    _RecordingNTK.calls.clear()
    clf = QuantumNTKClassifier(architecture=kernel, sparsity=sparsity, random_state=0)
    import tracemalloc

    tracemalloc.start()
    clf.fit(X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    calls = _RecordingNTK.calls
    evaluated = sum(size for _, size in calls)
    # Pattern entries, plus the 128 x n probe rows of quantum_resources_ and the 16 x 16
    # threshold subset: far below n^2 = 9e6.
    assert evaluated < 128 * n + 40 * n
    assert max(size for _, size in calls) <= 2**20
    assert peak < n * n * 8 / 4  # an n x n float64 array would be 72 MB
    assert sp.issparse(clf.kernel_)


def test_auto_depth_follows_the_paper_rule(blobs):
    X, y = blobs
    clf = QuantumNTKClassifier(depth_factor=0.1).fit(X, y)
    delta = min(
        1 - abs(X[i] @ X[j] / np.linalg.norm(X[i]) / np.linalg.norm(X[j]))
        for i in range(len(X))
        for j in range(len(X))
        if i != j
    )
    L_conv = 8 * math.log(len(X) / delta) / nonlinearity_coefficient("erf")
    assert separation(X) == pytest.approx(delta, rel=1e-6, abs=1e-12)
    assert convergence_depth(len(X), delta) == pytest.approx(L_conv, rel=1e-6)
    assert clf.depth_ == round(0.1 * L_conv)
    assert clf.depth == "auto"  # parameters are never overwritten


def test_imbalanced_binary_is_not_swamped_by_the_majority(blobs):
    X, y = blobs
    keep = np.r_[np.arange(30), np.arange(30, 36)]  # 30 vs 6
    clf = QuantumNTKClassifier(depth=30, sparsity="random", random_state=0)
    clf.fit(X[keep], y[keep])
    test = np.arange(36, 60)  # unseen minority-class points
    assert np.mean(clf.predict(X[test]) == 1) > 0.8
    assert np.mean(clf.predict(X[:30]) == 0) > 0.8


def test_multiclass_and_binary_shapes(digits_small):
    X, y = digits_small
    clf = QuantumNTKClassifier(depth=20, random_state=0).fit(X, y)
    assert clf.decision_function(X[:5]).shape == (5, 10)
    assert clf.dual_coef_.shape == (400, 10)
    assert clf.score(X, y) > 0.95
    mask = y < 2
    binary = QuantumNTKClassifier(depth=20, random_state=0).fit(X[mask], y[mask])
    assert binary.decision_function(X[:5]).shape == (5,)
    assert set(binary.predict(X[mask])) <= {0, 1}
    # String labels.
    labels = np.array(["even", "odd"])[y % 2]
    assert set(QuantumNTKClassifier(depth=20).fit(X, labels).predict(X)) <= set(labels)


# Depth 4 with random sparsity is indefinite: the grid search explores it on purpose.
@pytest.mark.filterwarnings("ignore::qntk_sklearn.IndefiniteKernelWarning")
def test_pipeline_grid_search_cross_val_clone_pickle(digits_small):
    X, y = digits_small
    pipe = make_pipeline(Normalizer(), QuantumNTKClassifier(random_state=0))
    grid = GridSearchCV(
        pipe,
        {
            "quantumntkclassifier__depth": [4, 32],
            "quantumntkclassifier__solver": ["exact", IterativeSolver(tol=1e-8)],
        },
        cv=3,
        n_jobs=2,
    ).fit(X, y)
    assert grid.best_score_ > 0.85
    assert (
        grid.best_estimator_[-1].depth_
        == grid.best_params_["quantumntkclassifier__depth"]
    )
    scores = cross_val_score(QuantumNTKClassifier(depth=32, random_state=0), X, y, cv=3)
    assert scores.mean() > 0.85
    fitted = grid.best_estimator_
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict(X), fitted.predict(X))
    c = clone(fitted[-1])
    assert not hasattr(c, "dual_coef_")
    assert c.get_params() == fitted[-1].get_params()


def test_solver_parameters_reach_grid_search(blobs):
    X, y = blobs
    clf = QuantumNTKClassifier(depth=10, solver=IterativeSolver())
    grid = GridSearchCV(clf, {"solver__tol": [1e-4, 1e-10]}, cv=2).fit(X, y)
    assert grid.best_estimator_.solver_.tol in (1e-4, 1e-10)
    assert grid.best_estimator_.solver_ is not grid.best_estimator_.solver


def test_iterative_and_exact_solvers_agree(digits_small):
    X, y = digits_small
    a = QuantumNTKClassifier(depth=40, solver="exact", random_state=1).fit(X, y)
    b = QuantumNTKClassifier(depth=40, solver="iterative", random_state=1).fit(X, y)
    np.testing.assert_allclose(
        a.decision_function(X[:20]), b.decision_function(X[:20]), rtol=1e-6, atol=1e-9
    )
    assert b.solver_.method_ == "cg"


def test_shallow_random_pattern_is_indefinite_and_uses_minres(digits_small):
    # The known trap: shallow networks give an indefinite sparsified kernel.
    X, y = digits_small
    clf = QuantumNTKClassifier(depth=2, solver="iterative", random_state=0)
    with pytest.warns(IndefiniteKernelWarning, match=r"indefinite.*`diag_reg` >"):
        clf.fit(X, y)
    assert clf.solver_.method_ == "minres"
    assert clf.condition_number_ > 10


def test_precomputed_matches_fc(blobs):
    X, y = blobs
    k = FullyConnectedNTK(depth=12)
    a = QuantumNTKClassifier(depth=12, sparsity="random", random_state=0).fit(X, y)
    b = QuantumNTKClassifier(architecture="precomputed", random_state=0)
    b.fit(k(X), y)
    np.testing.assert_allclose(
        b.decision_function(k(X[:7], X)), a.decision_function(X[:7]), rtol=1e-9
    )
    with pytest.raises(ValueError, match="X has 3 features, but .* expecting 60"):
        b.predict(np.ones((2, 3)))
    with pytest.raises(ValueError, match="square training Gram matrix"):
        QuantumNTKClassifier(architecture="precomputed").fit(
            np.ones((4, 3)), [0, 1] * 2
        )


def test_kernel_objects_as_architecture(blobs):
    X, y = blobs
    a = QuantumNTKClassifier(depth=5, sparsity="none").fit(X, y)
    b = QuantumNTKClassifier(architecture=FullyConnectedNTK(depth=5), sparsity="none")
    b.fit(X, y)
    np.testing.assert_allclose(b.decision_function(X), a.decision_function(X))
    assert b.depth_ is None
    # A foreign scikit-learn kernel (no pair evaluation) also works on the sparse path.
    rbf = QuantumNTKClassifier(architecture=RBF(0.5), random_state=0)
    with pytest.warns(IndefiniteKernelWarning):
        rbf.fit(X, y)
    dense = rbf.kernel_.toarray()
    rows, cols = np.nonzero(dense)
    np.testing.assert_allclose(dense[rows, cols], RBF(0.5)(X)[rows, cols])
    assert rbf.score(X, y) > 0.9


def test_regressor_interpolates_and_supports_multioutput():
    r = np.random.default_rng(0)
    X = r.normal(size=(50, 3))
    Y = np.c_[np.sin(X[:, 0]), X[:, 1] ** 2]
    reg = QuantumNTKRegressor(depth=3, diag_reg=0.0).fit(X, Y)
    assert reg.predict(X).shape == (50, 2)
    np.testing.assert_allclose(reg.predict(X), Y, atol=1e-6)
    reg1 = QuantumNTKRegressor(depth=3, diag_reg=0.0).fit(X, Y[:, 0])
    assert reg1.predict(X).shape == (50,)
    # Far from the data the centred predictor falls back to the training mean.
    far = QuantumNTKRegressor(depth=60, sparsity="diagonal").fit(X, Y[:, 0])
    np.testing.assert_allclose(
        far.predict(-X[:3] * 0 + 100.0), Y[:, 0].mean(), atol=0.1
    )


def test_verbose_prints_progress(blobs, capsys):
    X, y = blobs
    QuantumNTKClassifier(depth=5, sparsity="none", verbose=1).fit(X, y)
    assert "[qntk] kernel" in capsys.readouterr().err


@pytest.mark.parametrize(
    "params, match",
    [
        ({"depth": 0}, "'depth' parameter"),
        ({"depth": -3}, "'depth' parameter"),
        ({"depth": "deep"}, "'depth' parameter"),
        ({"sparsity": "banded"}, "'sparsity' parameter"),
        ({"solver": "hhl"}, "'solver' parameter"),
        ({"activation": "tanh"}, "'activation' parameter"),
        ({"sparsity_factor": 0}, "'sparsity_factor' parameter"),
        ({"W_std": -1.0}, "'W_std' parameter"),
        ({"architecture": "resnet"}, "'architecture' parameter"),
    ],
)
def test_bad_parameters_name_the_parameter(blobs, params, match):
    X, y = blobs
    with pytest.raises(ValueError, match=match):
        QuantumNTKClassifier(**params).fit(X, y)


def test_bad_data(blobs):
    X, y = blobs
    clf = QuantumNTKClassifier(depth=3, sparsity="none")
    with pytest.raises(ValueError, match="at least 2 classes.*got 1 class"):
        clf.fit(X, np.zeros(len(y)))
    Xnan = X.copy()
    Xnan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(Xnan, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        clf.fit(X, y[:-1])
    clf.fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but QuantumNTKClassifier"):
        clf.predict(X[:, :3])
    with pytest.raises(ValueError, match="infinity"):
        clf.predict(np.full((1, X.shape[1]), np.inf))
    with pytest.raises(ValueError, match="`depth` must be a positive multiple of 3"):
        QuantumNTKClassifier(architecture="myrtle", depth=4).fit(
            np.ones((4, 16)), [0, 1, 0, 1]
        )


def test_overflowing_depth_is_a_clear_error(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="overflowed float64 at depth=5000"):
        QuantumNTKClassifier(depth=5000).fit(X, y)


def test_myrtle_without_the_extra_names_the_extra():
    pytest.importorskip("jax")
    try:
        import neural_tangents  # noqa: F401
    except Exception:
        pass
    else:
        pytest.skip("neural-tangents is installed")
    X = np.random.default_rng(0).normal(size=(4, 256))
    with pytest.raises(ImportError, match=r"qntk-sklearn\[neural-tangents\]"):
        QuantumNTKClassifier(architecture="myrtle", depth=3).fit(X, [0, 1, 0, 1])


def test_fit_is_reproducible_with_random_state(digits_small):
    X, y = digits_small
    a = QuantumNTKClassifier(depth=30, random_state=7).fit(X, y)
    b = QuantumNTKClassifier(depth=30, random_state=7).fit(X, y)
    c = QuantumNTKClassifier(depth=30, random_state=8).fit(X, y)
    assert (a.kernel_ != b.kernel_).nnz == 0
    assert (a.kernel_ != c.kernel_).nnz > 0


def test_exact_solver_singular_duplicates_do_not_give_nan():
    X = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    y = np.array([0, 0, 1, 1])
    clf = QuantumNTKClassifier(depth=3, sparsity="none", solver=ExactSolver())
    with pytest.warns(UserWarning, match="singular"):
        clf.fit(X, y)
    assert np.all(np.isfinite(clf.decision_function(X)))
    np.testing.assert_array_equal(clf.predict(X), y)


@pytest.mark.parametrize("sparsity", ["none", "random", "diagonal"])
def test_precomputed_kernel_must_be_symmetric(blobs, sparsity):
    # The exact solver used to read one triangle and the sparsifier the other: now
    # one check, at fit, names the problem.
    X, y = blobs
    K = FullyConnectedNTK(depth=12)(X)
    K[0, 1] += 1e-3 * np.abs(K).max()
    clf = QuantumNTKClassifier(architecture="precomputed", sparsity=sparsity)
    with pytest.raises(ValueError, match=r"`X` must be symmetric: max \|X - X\^T\|"):
        clf.fit(K, y)
