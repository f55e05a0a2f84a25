"""Kernels in the core package: FullyConnectedNTK, and the neural-tangents wrapper's
behaviour without neural-tangents (validation, ImportError naming the extra).

MyrtleNTK (native) is tested in test_kernels_myrtle.py."""

import math
import pickle

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import clone
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.svm import SVC

from qntk_sklearn.kernels import (
    FullyConnectedNTK,
    StaxKernel,
    default_W_std,
)


def _nt_importable():
    try:
        import neural_tangents  # noqa: F401
    except Exception:
        return False
    return True


@pytest.fixture
def rng():
    return np.random.default_rng(20210720)


@pytest.fixture
def X(rng):
    # Not normalised on purpose: norms between about 1 and 3.
    return rng.normal(size=(9, 6)) * rng.uniform(0.5, 1.5, size=(9, 1))


def reference_fc(sq1, sq2, dot, d, depth, W_std, b_std, activation, get):
    """The FC kernel recursion in plain numpy float64, written independently."""
    W2, b2 = W_std**2, b_std**2
    q1, q2, c = W2 * sq1 / d + b2, W2 * sq2 / d + b2, W2 * dot / d + b2
    ntk = c
    for _ in range(depth):
        if activation == "erf":
            s1, s2 = 1 + 2 * q1, 1 + 2 * q2
            act = 2 / np.pi * np.arcsin(np.clip(2 * c / np.sqrt(s1 * s2), -1, 1))
            der = 4 / np.pi / np.sqrt(s1 * s2 - 4 * c * c)
            n1 = 2 / np.pi * np.arcsin(2 * q1 / s1)
            n2 = 2 / np.pi * np.arcsin(2 * q2 / s2)
        else:
            norm = np.sqrt(q1 * q2)
            theta = np.arccos(np.clip(c / norm, -1, 1))
            act = norm * (np.sin(theta) + (np.pi - theta) * np.cos(theta)) / (2 * np.pi)
            der = (np.pi - theta) / (2 * np.pi)
            n1, n2 = q1 / 2, q2 / 2
        c_new = W2 * act + b2
        ntk = W2 * ntk * der + c_new
        q1, q2, c = W2 * n1 + b2, W2 * n2 + b2, c_new
    return ntk if get == "ntk" else c


def reference_matrix(k, X, Y=None):
    """``k(X, Y)`` by :func:`reference_fc`; for ``Y=None`` the diagonal from norms."""
    W_std = default_W_std(k.activation) if k.W_std is None else k.W_std
    dot = X @ (X if Y is None else Y).T
    if Y is None:
        Y = X
        np.fill_diagonal(dot, np.sum(X * X, 1))
    return reference_fc(
        np.sum(X * X, 1)[:, None],
        np.sum(Y * Y, 1)[None, :],
        dot,
        X.shape[1],
        k.depth,
        W_std,
        k.b_std,
        k.activation,
        k.get,
    )


CONFIGS = [
    dict(depth=1),
    dict(depth=5, b_std=0.3),
    dict(depth=40, get="nngp"),
    dict(depth=3, activation="relu"),
    dict(depth=20, activation="relu", W_std=1.2, b_std=0.1),
]


# --- matrix properties ------------------------------------------------------------
@pytest.mark.parametrize("params", CONFIGS)
def test_symmetric_and_psd(params, X):
    K = FullyConnectedNTK(**params)(X)
    np.testing.assert_allclose(K, K.T, rtol=1e-12, atol=0)
    eigenvalues = np.linalg.eigvalsh(K)
    assert eigenvalues.min() >= -1e-10 * eigenvalues.max()


@pytest.mark.parametrize("params", CONFIGS)
def test_matches_numpy_reference(params, X, rng):
    k = FullyConnectedNTK(**params)
    Y = rng.normal(size=(4, X.shape[1]))
    np.testing.assert_allclose(k(X, Y), reference_matrix(k, X, Y), rtol=1e-10)
    K, K_ref = k(X), reference_matrix(k, X)
    off = ~np.eye(len(X), dtype=bool)
    np.testing.assert_allclose(K[off], K_ref[off], rtol=1e-10)
    # On the diagonal each layer's correlation c/sqrt(q1 q2) is 1 up to rounding, and
    # relu's arccos turns 1e-16 into 1e-8: the two codes agree only to ~1e-8 there.
    np.testing.assert_allclose(np.diag(K), np.diag(K_ref), rtol=1e-6)


@pytest.mark.parametrize("params", CONFIGS)
def test_diag_is_the_diagonal(params, X):
    k = FullyConnectedNTK(**params)
    K = k(X)
    np.testing.assert_array_equal(np.diag(K), k.diag(X))
    # The all-pairs block takes x.x from a matrix product, rounded apart from |x|^2
    # by ~1e-16: relu's arccos turns that into ~sqrt(1e-16) = 1e-8 per layer.
    np.testing.assert_allclose(k.diag(X), np.diag(k(X, X.copy())), rtol=1e-6)


@pytest.mark.parametrize("params", CONFIGS)
def test_pairs_are_matrix_entries(params, X, rng):
    k = FullyConnectedNTK(**params)
    Y = rng.normal(size=(5, X.shape[1]))
    rows = rng.integers(0, len(X), size=30)
    cols = rng.integers(0, len(Y), size=30)
    np.testing.assert_allclose(
        k.pairs(X, Y, rows=rows, cols=cols), k(X, Y)[rows, cols], rtol=1e-11
    )
    rows, cols = rng.integers(0, len(X), size=(2, 30))
    np.testing.assert_allclose(
        k.pairs(X, rows=rows, cols=cols), k(X)[rows, cols], rtol=1e-9
    )


def test_pairs_rejects_mismatched_indices(X):
    with pytest.raises(ValueError, match="`rows` and `cols`"):
        FullyConnectedNTK(depth=2).pairs(X, rows=[0, 1], cols=[0])


def test_blocks_equal_one_shot(X, rng):
    k = FullyConnectedNTK(depth=7, b_std=0.2)
    Y = rng.normal(size=(11, X.shape[1]))
    K_one, d_one = k(X, Y), k.diag(X)
    small = FullyConnectedNTK(depth=7, b_std=0.2)
    small._max_block_entries = 7  # blocks of 1 row x 7 columns, 2 pairs per chunk
    np.testing.assert_allclose(small(X, Y), K_one, rtol=1e-12)
    np.testing.assert_allclose(small.diag(X), d_one, rtol=1e-12)
    np.testing.assert_allclose(small(X), k(X), rtol=1e-12)


@pytest.fixture
def x64_off():
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", False)
    yield
    jax.config.update("jax_enable_x64", previous)


def test_float64_with_x64_globally_off(x64_off):
    k = FullyConnectedNTK(depth=100)
    rho = np.linspace(-0.9, 0.999, 7)
    values = k.at_correlation(rho, sq_norm=1.0, n_features=1)
    assert values.dtype == np.float64
    expected = reference_fc(
        1.0, 1.0, rho, 1, 100, default_W_std("erf"), 0, "erf", "ntk"
    )
    # float32 would be off by percents at depth 100.
    np.testing.assert_allclose(values, expected, rtol=1e-10)
    assert not jax.config.jax_enable_x64  # left as it was


@pytest.mark.parametrize("activation", ["erf", "relu"])
def test_ntk_at_least_nngp_on_diagonal(activation, X):
    for depth in (1, 4, 30):
        ntk = FullyConnectedNTK(depth=depth, activation=activation, b_std=0.1)
        nngp = clone(ntk).set_params(get="nngp")
        assert np.all(ntk.diag(X) > nngp.diag(X))


# --- depth 1 by hand -------------------------------------------------------------
def _gauss_hermite_expectation(f, g, q1, q2, c, points=80):
    """E[f(u) g(v)] for (u, v) ~ N(0, [[q1, c], [c, q2]]) by 2-D Gauss-Hermite."""
    z, w = np.polynomial.hermite_e.hermegauss(points)
    w = w / w.sum()
    z1, z2 = np.meshgrid(z, z, indexing="ij")
    u = math.sqrt(q1) * z1
    v = c / math.sqrt(q1) * z1 + math.sqrt(q2 - c * c / q1) * z2
    return float(np.sum(np.outer(w, w) * f(u) * g(v)))


def test_erf_depth_one_against_quadrature():
    """Theta = W^2 (E[erf u erf v] + c E[erf' u erf' v]) + b^2, integrals numeric."""
    from scipy.special import erf

    W_std, b_std = 1.3, 0.4
    x = np.array([[0.9, -0.2, 0.5]])
    y = np.array([[0.3, 0.8, -0.1]])
    d = 3
    q1 = W_std**2 * float(x[0] @ x[0]) / d + b_std**2
    q2 = W_std**2 * float(y[0] @ y[0]) / d + b_std**2
    c = W_std**2 * float(x[0] @ y[0]) / d + b_std**2

    def erf_prime(z):
        return 2 / math.sqrt(math.pi) * np.exp(-z * z)

    sigma = _gauss_hermite_expectation(erf, erf, q1, q2, c)
    sigma_dot = _gauss_hermite_expectation(erf_prime, erf_prime, q1, q2, c)
    nngp = W_std**2 * sigma + b_std**2
    ntk = W_std**2 * (sigma + c * sigma_dot) + b_std**2
    k = FullyConnectedNTK(depth=1, W_std=W_std, b_std=b_std)
    assert float(k(x, y)[0, 0]) == pytest.approx(ntk, rel=1e-9)
    assert float(k.set_params(get="nngp")(x, y)[0, 0]) == pytest.approx(nngp, rel=1e-9)


def test_relu_depth_one_by_hand():
    # He init, unit inputs in d = 2: q = 1. Orthogonal: Sigma = W^2 / (2 pi),
    # Theta = Sigma + c Sigma_dot = 1/pi (c = 0). Equal: Sigma = W^2 / 2 = 1 and
    # Theta = W^2 (1/2 + 1 * 1/2) = 2.
    X = np.eye(2)
    K = FullyConnectedNTK(depth=1, activation="relu")(X)
    np.testing.assert_allclose(K, [[2.0, 1 / math.pi], [1 / math.pi, 2.0]], rtol=1e-13)
    nngp = FullyConnectedNTK(depth=1, activation="relu", get="nngp")(X)
    np.testing.assert_allclose(
        nngp, [[1.0, 1 / math.pi], [1 / math.pi, 1.0]], rtol=1e-13
    )


# --- hypothesis -------------------------------------------------------------------
small_inputs = st.integers(1, 4).flatmap(
    lambda d: arrays(
        np.float64,
        st.tuples(st.integers(1, 5), st.just(d)),
        elements=st.floats(-3, 3, allow_nan=False, width=64),
    )
)


@settings(max_examples=30, deadline=None)
@given(X=small_inputs, depth=st.integers(1, 12), act=st.sampled_from(["erf", "relu"]))
def test_property_symmetric_pairs_consistent(X, depth, act):
    if act == "relu" and np.any(np.sum(X * X, 1) == 0):
        X = X + 0.5  # the relu kernel of a zero input is 0/0 in the correlation
    k = FullyConnectedNTK(depth=depth, activation=act, b_std=0.2)
    K = k(X)
    assert K.dtype == np.float64 and np.all(np.isfinite(K))
    np.testing.assert_allclose(K, K.T, rtol=1e-12, atol=1e-300)
    rows, cols = np.triu_indices(len(X))
    np.testing.assert_allclose(
        k.pairs(X, rows=rows, cols=cols), K[rows, cols], rtol=1e-7, atol=1e-12
    )


@settings(max_examples=40, deadline=None)
@given(
    rho=st.floats(-1, 1),
    sq_norm=st.floats(0.1, 4),
    depth=st.integers(1, 10),
    act=st.sampled_from(["erf", "relu"]),
)
def test_property_at_correlation_is_the_kernel(rho, sq_norm, depth, act):
    k = FullyConnectedNTK(depth=depth, activation=act)
    r = math.sqrt(sq_norm)
    x = np.array([[r, 0.0]])
    y = np.array([[r * rho, r * math.sqrt(1 - rho * rho)]])
    # The inputs' own inner product, so that both sides see the same rounding.
    rho_xy = float(x[0] @ y[0]) / sq_norm
    expected = float(k(x, y)[0, 0])
    # At rho = 1 exactly, at_correlation takes the diagonal path while k(x, y) sees
    # x.y rounded within 1 ulp of |x|^2; relu's arccos turns that into ~sqrt(eps).
    assert float(k.at_correlation(rho_xy, sq_norm, 2)) == pytest.approx(
        expected, rel=1e-7
    )


@settings(max_examples=30, deadline=None)
@given(
    rho=arrays(np.float64, 8, elements=st.floats(-1, 1)),
    act=st.sampled_from(["erf", "relu"]),
    get=st.sampled_from(["ntk", "nngp"]),
)
def test_property_monotone_in_correlation(rho, act, get):
    # Without bias, the kernel is a power series in the correlation with
    # non-negative coefficients, hence non-decreasing on [0, 1]; for erf (odd) the
    # series is odd, so on [-1, 1].
    if act == "relu":
        rho = np.abs(rho)
    values = FullyConnectedNTK(depth=6, activation=act, get=get).at_correlation(
        np.sort(rho)
    )
    assert np.all(np.diff(values) >= -1e-12 * np.abs(values).max())


# --- validation -------------------------------------------------------------------
@pytest.mark.parametrize(
    "params, match",
    [
        (dict(depth=0), r"`depth` must be a positive int; got 0"),
        (dict(depth=-3), r"`depth` must be a positive int; got -3"),
        (dict(depth=2.5), r"`depth` must be a positive int; got 2.5"),
        (dict(depth=True), r"`depth` must be a positive int; got True"),
        (dict(activation="tanh"), r"`activation` must be one of .*'tanh'"),
        (dict(W_std=0.0), r"`W_std` must be positive; got 0.0"),
        (dict(W_std=-1.0), r"`W_std` must be positive; got -1.0"),
        (dict(W_std=float("nan")), r"`W_std` must be a finite real"),
        (dict(b_std=-0.1), r"`b_std` must be non-negative; got -0.1"),
        (dict(get="foo"), r"`get` must be 'ntk' or 'nngp'; got 'foo'"),
    ],
)
def test_bad_parameters(params, match, X):
    k = FullyConnectedNTK(**params)  # __init__ only stores
    with pytest.raises(ValueError, match=match):
        k(X)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input(bad, X):
    X = X.copy()
    X[2, 3] = bad
    k = FullyConnectedNTK(depth=2)
    with pytest.raises(ValueError, match="`X` must contain only finite values"):
        k(X)
    with pytest.raises(ValueError, match="`Y` must contain only finite values"):
        k(np.ones((2, X.shape[1])), X)


def test_feature_mismatch(X):
    with pytest.raises(ValueError, match="same number of features"):
        FullyConnectedNTK(depth=2)(X, X[:, :3])


# --- scikit-learn -----------------------------------------------------------------
def test_svc_and_gaussian_process(rng):
    X = rng.normal(size=(30, 4))
    y = np.where(X[:, 0] + 0.3 * X[:, 1] > 0, 1, -1)
    k = FullyConnectedNTK(depth=3)
    svc = SVC(kernel=k).fit(X, y)
    assert svc.score(X, y) >= 0.9
    gp = GaussianProcessRegressor(kernel=k, alpha=1e-8).fit(X, y.astype(float))
    np.testing.assert_allclose(gp.predict(X), y, atol=1e-4)
    mean, std = gp.predict(X[:3] + 0.1, return_std=True)
    assert mean.shape == (3,) and np.all(std > 0)


def test_clone_get_params_pickle(X):
    k = FullyConnectedNTK(depth=4, activation="relu", W_std=1.1, b_std=0.2)
    assert k.get_params() == dict(
        depth=4, activation="relu", W_std=1.1, b_std=0.2, get="ntk"
    )
    c = clone(k)
    assert c == k and c is not k
    assert clone(k).set_params(depth=5) != k
    K = k(X)
    restored = pickle.loads(pickle.dumps(k))
    assert restored == k
    np.testing.assert_array_equal(restored(X), K)


# --- neural-tangents wrappers without neural-tangents -----------------------------
EXTRA = r"qntk-sklearn\[neural-tangents\]"


@pytest.mark.skipif(_nt_importable(), reason="neural-tangents is importable")
def test_stax_kernel_needs_the_extra():
    with pytest.raises(
        ImportError, match=f"StaxKernel needs neural-tangents: .*{EXTRA}"
    ):
        StaxKernel(kernel_fn=lambda x1, x2, get: x1 @ x2.T)(np.eye(2))


def test_stax_kernel_bad_parameters():
    with pytest.raises(ValueError, match="`get` must be 'ntk' or 'nngp'"):
        StaxKernel(kernel_fn=None, get="foo")(np.eye(2))
    with pytest.raises(ValueError, match="`input_shape` must be None or a tuple"):
        StaxKernel(kernel_fn=None, input_shape=(2, 0))(np.eye(2))


def test_stax_kernel_params_without_evaluating():
    assert set(StaxKernel(kernel_fn=None).get_params()) == {
        "kernel_fn",
        "get",
        "input_shape",
        "batch_size",
    }
