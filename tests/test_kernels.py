"""Kernels in the core package: FullyConnectedNTK, and the neural-tangents wrappers'
behaviour without neural-tangents (validation, ImportError naming the extra)."""

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
    MyrtleNTK,
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


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_blocks_in_float64_with_x64_globally_off(x64_off, backend, rng):
    sphere = rng.normal(size=(30, 5))
    sphere /= np.linalg.norm(sphere, axis=1, keepdims=True)
    k = FullyConnectedNTK(depth=100)
    k._backend = backend
    for A in (sphere, sphere * np.linspace(1, 2, 30)[:, None]):  # table, recursion
        K = k(A, A[:7] + 0.01)
        assert K.dtype == np.float64
        jax.config.update("jax_enable_x64", True)
        on = FullyConnectedNTK(depth=100)
        on._backend = "numpy"
        expected = on(A, A[:7] + 0.01)
        jax.config.update("jax_enable_x64", False)
        # float32 anywhere would be ~1e-7 off or worse. XLA and BLAS round the inner
        # products of the near-parallel pairs (x, x + 0.01) differently, which the
        # depth-100 kernel amplifies to ~1e-12.
        np.testing.assert_allclose(K, expected, rtol=1e-10)
    assert not jax.config.jax_enable_x64


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


def _at_correlation_tolerance(k, sq_norm):
    """How far ``k(x, y)`` and ``at_correlation`` may differ for the same cosine.

    Both sides see cosines that differ by a few ulp (the test's ``x . y / sq_norm``
    against the kernel's ``x . y / sqrt(|x|^2 |y|^2)``). Near ``rho = +-1`` relu's
    kernel is Hoelder-1/2 in the cosine (it depends on ``sqrt(1 -+ rho)``), so a few
    ulp of ``rho`` move it by ~``sqrt(4 eps)`` of the diagonal: e.g. at depth 1 the
    NTK is -1.56e-8 (the exact value) at ``rho = -1 + 1 ulp`` and 0 at -1. erf is
    smooth at these depths (``|dk/drho| < 10 k(x, x)``), 1e-13 of the diagonal.
    """
    diag = float(k.at_correlation(1.0, sq_norm, 2))
    eps = np.finfo(np.float64).eps
    return (4 * math.sqrt(eps) if k.activation == "relu" else 1e-13) * diag


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
    rho_xy = float(x[0] @ y[0]) / sq_norm
    expected = float(k(x, y)[0, 0])
    assert float(k.at_correlation(rho_xy, sq_norm, 2)) == pytest.approx(
        expected, rel=1e-12, abs=_at_correlation_tolerance(k, sq_norm)
    )


def test_at_correlation_near_minus_one_is_exact():
    """The seed that made the property above flaky: relu, depth 1, rho = -1.

    ``at_correlation(-1 + 1 ulp)`` is -1.5e-8 where ``k(x, -x)`` is 0: both are the
    exact kernel at their cosines (the NTK ``W^2 q (sin u - 2u cos u) / (2 pi)``,
    ``u = sqrt(2 (1 + rho))``, is negative just above -1), so the property needs a
    tolerance on the cosine, not a fix of the kernel. What was wrong in the kernel is
    the tiny values there: ``sin t + (pi - t) cos t`` cancelled to 1e-16 absolute, so
    the depth-1 NNGP (~1e-24 at one ulp from -1) came out as rounding noise.
    """
    for sq_norm in np.linspace(0.1, 4, 40):
        k = FullyConnectedNTK(depth=1, activation="relu")
        x = np.array([[math.sqrt(sq_norm), 0.0]])
        assert float(k(x, -x)[0, 0]) == 0.0
        rho = np.array([-1 + ULP, -1 + 2 * ULP, -1 + 1e-10, -1 + 1e-6])
        for get in ("ntk", "nngp"):
            k.set_params(get=get)
            ref = [mp_reference(r, 1, "relu", get=get, sq=sq_norm, d=2) for r in rho]
            np.testing.assert_allclose(
                k.at_correlation(rho, sq_norm, 2), ref, rtol=1e-13
            )
    assert float(k.set_params(get="ntk").at_correlation(-1 + ULP, 3.28, 2)) < -1.5e-8


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
def test_wrappers_need_the_extra():
    with pytest.raises(
        ImportError, match=f"MyrtleNTK needs neural-tangents: .*{EXTRA}"
    ):
        MyrtleNTK(depth=3, image_shape=(16, 16, 1))(np.ones((2, 256)))
    with pytest.raises(
        ImportError, match=f"StaxKernel needs neural-tangents: .*{EXTRA}"
    ):
        StaxKernel(kernel_fn=lambda x1, x2, get: x1 @ x2.T)(np.eye(2))
    with pytest.raises(ImportError, match=EXTRA):
        MyrtleNTK(depth=3, image_shape=(16, 16, 1)).pairs(
            np.ones((2, 256)), rows=[0], cols=[1]
        )


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(depth=4), r"`depth` must be a positive multiple of 3.*got 4"),
        (dict(depth=0), r"`depth` must be a positive multiple of 3.*got 0"),
        (dict(depth=-3), r"`depth` must be a positive multiple of 3.*got -3"),
        (dict(depth=True), r"`depth` must be a positive multiple of 3.*got True"),
        (dict(depth=6.0), r"`depth` must be a positive multiple of 3.*got 6.0"),
        (dict(W_std=0), r"`W_std` must be positive; got 0"),
        (dict(b_std=-1.0), r"`b_std` must be non-negative; got -1.0"),
        (dict(get="foo"), r"`get` must be 'ntk' or 'nngp'; got 'foo'"),
    ],
)
def test_myrtle_bad_parameters(params, match):
    # Checked before neural-tangents is imported, so the same in every environment.
    k = MyrtleNTK(**{"image_shape": (16, 16, 1), **params})
    with pytest.raises(ValueError, match=match):
        k(np.ones((2, 256)))


@pytest.mark.parametrize("image_shape", [(8, 8, 1), (16, 16), (16, 16, 0), 256])
def test_myrtle_bad_image_shape(image_shape):
    with pytest.raises(ValueError, match=r"`image_shape` must be \(height, width"):
        MyrtleNTK(depth=3, image_shape=image_shape)(np.ones((2, 64)))


def test_myrtle_input_shape_mismatch():
    with pytest.raises(ValueError, match=r"`X` must have shape \(n_samples, 256\)"):
        MyrtleNTK(depth=3, image_shape=(16, 16, 1))(np.ones((2, 255)))
    with pytest.raises(ValueError, match="`batch_size` must be a positive int"):
        MyrtleNTK(depth=3, image_shape=(16, 16, 1), batch_size=0)(np.ones((2, 256)))


def test_stax_kernel_bad_parameters():
    with pytest.raises(ValueError, match="`get` must be 'ntk' or 'nngp'"):
        StaxKernel(kernel_fn=None, get="foo")(np.eye(2))
    with pytest.raises(ValueError, match="`input_shape` must be None or a tuple"):
        StaxKernel(kernel_fn=None, input_shape=(2, 0))(np.eye(2))


def test_wrappers_clone_and_pickle_without_evaluating():
    k = MyrtleNTK(depth=6, image_shape=(16, 16, 1), b_std=0.1, get="nngp")
    assert clone(k) == k
    assert pickle.loads(pickle.dumps(k)) == k
    assert set(k.get_params()) == {
        "depth",
        "image_shape",
        "W_std",
        "b_std",
        "get",
        "batch_size",
    }
    assert k.get_params()["W_std"] == pytest.approx(math.sqrt(2))
    assert set(StaxKernel(kernel_fn=None).get_params()) == {
        "kernel_fn",
        "get",
        "input_shape",
        "batch_size",
    }


# --- accuracy contract: 50-digit mpmath reference -----------------------------------
def mp_reference(rho, depth, activation, W_std=None, b_std=0.0, get="ntk", sq=1, d=1):
    """The FC recursion in 50-digit arithmetic at the exact float ``rho``."""
    import mpmath as mp

    with mp.workdps(50):
        rho = mp.mpf(float(rho))
        if W_std is None:
            W2 = (
                1 / (2 / mp.pi * mp.asin(mp.mpf(2) / 3))
                if activation == "erf"
                else mp.mpf(2)
            )
        else:
            W2 = mp.mpf(W_std) ** 2
        b2 = mp.mpf(b_std) ** 2
        q = W2 * mp.mpf(sq) / d + b2
        c = W2 * mp.mpf(sq) * rho / d + b2
        ntk = c
        for _ in range(depth):
            if activation == "erf":
                s = 1 + 2 * q
                cov = 2 / mp.pi * mp.asin(2 * c / s)
                der = 4 / mp.pi / mp.sqrt(s * s - 4 * c * c)
                q_new = 2 / mp.pi * mp.asin(2 * q / s)
            else:
                r = max(-1, min(1, c / q))
                t = mp.acos(r)  # sin t as sqrt(1 - r^2): exactly 0 at r = -1
                cov = q * (mp.sqrt(1 - r * r) + (mp.pi - t) * r) / (2 * mp.pi)
                der = (mp.pi - t) / (2 * mp.pi)
                q_new = q / 2
            c = W2 * cov + b2
            q = W2 * q_new + b2
            ntk = W2 * ntk * der + c
        return float(ntk if get == "ntk" else c)


ULP = np.finfo(np.float64).eps / 2  # spacing of floats just below 1
#: Cosines where the kernel is hardest: a few ulp from +-1, the steep region of deep
#: erf kernels, and the middle (0 and tiny values for the odd erf kernel).
CONTRACT_RHO = np.array(
    [1.0, 1 - ULP, 1 - 2 * ULP, 1 - 5 * ULP, 1 - 1e-14, 1 - 1e-12, 1 - 1e-10]
    + [1 - 1e-8, 1 - 1e-6, 1 - 1e-4, 1 - 1e-2, 0.9, 0.7, 0.5, 0.3, 1e-9, 0.0]
)
CONTRACT_RHO = np.concatenate([CONTRACT_RHO, -CONTRACT_RHO[:-1]])

CONTRACT_CONFIGS = [
    pytest.param(
        activation,
        depth,
        W_std,
        b_std,
        marks=[pytest.mark.slow] if depth == 500 else [],
    )
    for activation in ("erf", "relu")
    for depth in (1, 2, 10, 100, 500)
    for W_std, b_std in ((None, 0.0), (1.1, 0.3))
]


@pytest.mark.parametrize("activation, depth, W_std, b_std", CONTRACT_CONFIGS)
def test_accuracy_contract_against_mpmath(activation, depth, W_std, b_std):
    """Fast path (table) and recursion: within 1e-12 of a 50-digit reference wherever
    the plain float64 recursion is, and never less accurate than it elsewhere.

    The plain recursion (``reference_fc``) loses the gap ``1 - rho``: erf at depth
    100 is 1e-6 off at one ulp from 1 (0.5 at depth 200), relu 1e-9 to 1e-6 near
    +-1. The absolute floor, 1e-15 of the kernel's size at ``|rho| <= 1/2``, only
    matters where an entry crosses zero (relu's depth-1 NTK at rho ~ -0.39, erf with
    a bias): there every float64 evaluation cancels terms of that size, and an ulp
    of ``rho`` moves the entry by more.
    """
    rho = CONTRACT_RHO
    W = default_W_std(activation) if W_std is None else W_std
    for get in ("ntk", "nngp"):
        k = FullyConnectedNTK(depth, activation, W_std=W_std, b_std=b_std, get=get)
        ref = np.array(
            [mp_reference(r, depth, activation, W_std, b_std, get) for r in rho]
        )
        table = k._evaluator()._table(W**2)  # inputs of norm 1 in d = 1
        fast = table(rho)
        recursion = k.at_correlation(rho)  # 33 points: the recursion
        with np.errstate(all="ignore"):
            plain = reference_fc(1.0, 1.0, rho, 1, depth, W, b_std, activation, get)
        floor = 1e-15 * np.max(np.abs(ref[np.abs(rho) <= 0.5]))
        allowed = np.maximum(1e-12 * np.abs(ref) + floor, np.abs(plain - ref))
        for name, values in (("table", fast), ("recursion", recursion)):
            error = np.abs(values - ref)
            assert np.all(error <= allowed), (name, get, rho[error > allowed])
        # Where the kernel is not near zero both are within 1e-13.
        big = np.abs(ref) > 1e3 * floor
        for values in (fast, recursion):
            assert np.max(np.abs(values - ref)[big] / np.abs(ref[big])) < 2e-13


def test_plain_recursion_fails_near_one():
    # What the accuracy contract protects against: the recursion as written before
    # (neural-tangents' too) at depth 200, one ulp from rho = 1.
    rho = np.array([1 - ULP])
    ref = mp_reference(rho[0], 200, "erf")
    plain = reference_fc(1.0, 1.0, rho, 1, 200, default_W_std("erf"), 0.0, "erf", "ntk")
    assert abs(plain[0] - ref) > 0.1 * ref
    fast = FullyConnectedNTK(200)._evaluator()._table(default_W_std("erf") ** 2)(rho)
    assert fast[0] == pytest.approx(ref, rel=1e-13)


@settings(max_examples=25, deadline=None)
@given(
    act=st.sampled_from(["erf", "relu"]),
    depth=st.integers(1, 150),
    W_std=st.floats(0.5, 2.0),
    b_std=st.sampled_from([0.0, 0.1, 0.7]),
    get=st.sampled_from(["ntk", "nngp"]),
    sq=st.floats(0.01, 100.0),
    rho=arrays(np.float64, 16, elements=st.floats(-1, 1)),
)
def test_property_table_is_the_recursion(act, depth, W_std, b_std, get, sq, rho):
    """The table against the accurate recursion (tested against mpmath above), for
    any weights, biases, norms and cosines, with the gaps near +-1 exercised."""
    rho = np.concatenate(
        [rho, 1 - 3 * ULP * np.abs(rho[:4]), -1 + 1e-9 * rho[4:8] ** 2]
    )
    k = FullyConnectedNTK(depth, act, W_std=W_std, b_std=b_std, get=get)
    ev = k._evaluator()
    try:
        expected = k.at_correlation(rho, sq, 7)  # < 256 points: the recursion
    except ValueError:  # overflow (relu, large W_std): nothing to compare
        return
    if ev.homogeneous:
        fast = ev.W2 * sq / 7 * ev._table(1.0)(rho)
    else:
        fast = ev._table(ev.W2 * sq / 7)(rho)
    scale = np.max(np.abs(k.at_correlation(np.linspace(-0.5, 0.5, 11), sq, 7)))
    np.testing.assert_allclose(fast, expected, rtol=1e-12, atol=1e-15 * scale)


# --- identical rows get the diagonal ------------------------------------------------
IDENTICAL_CONFIGS = [
    dict(depth=200),
    dict(depth=150, b_std=0.2, get="nngp"),
    dict(depth=60, activation="relu"),
    dict(depth=60, activation="relu", b_std=0.1),
]


def _with_copies(normalise):
    """12 rows (X[9] = X[3]) and 3 queries copying X[4], X[0] (with -0.0), X[7]."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(12, 5))
    if normalise:
        X /= np.linalg.norm(X, axis=1, keepdims=True)
    X[0, 2] = 0.0
    X[9] = X[3]
    Y = X[[4, 0, 7]].copy()
    Y[1, 2] = -0.0  # still the same point
    return X, Y


@pytest.mark.parametrize("normalise", [False, True])
@pytest.mark.parametrize("params", IDENTICAL_CONFIGS)
def test_identical_rows_get_the_diagonal(params, normalise):
    """Every path gives a pair of identical rows exactly ``diag`` (issue 8).

    Through a matrix product ``x . x`` differs from ``|x|^2`` in the last bits, and at
    depth 200 the erf kernel turned that into 1e-4 to 1e-30 of the diagonal.
    """
    X, Y = _with_copies(normalise)
    k = FullyConnectedNTK(**params)
    diag = k.diag(X)
    pairs_XY = [(4, 0), (0, 1), (7, 2)]
    K_XY, K_YX = k(X, Y), k(Y, X)
    for i, j in pairs_XY:
        assert K_XY[i, j] == diag[i] and K_YX[j, i] == diag[i]
    K = k(X)
    assert K[3, 9] == K[9, 3] == diag[3] == diag[9]
    np.testing.assert_array_equal(np.diag(k(X, X.copy())), diag)
    np.testing.assert_array_equal(np.diag(k.block(X, X)), diag)
    rows, cols = np.array(pairs_XY).T
    np.testing.assert_array_equal(k.pairs(X, Y, rows=rows, cols=cols), diag[rows])
    np.testing.assert_array_equal(
        k.pairs(X, rows=[3, 9, 5], cols=[9, 3, 5]), diag[[3, 9, 5]]
    )
    sq = np.einsum("ij,ij->i", X, X)
    for i in (0, 4):
        assert float(k.at_correlation(1.0, sq[i], X.shape[1])) == diag[i]
    # Not identical, only close: not the diagonal (the pair is genuinely distinct).
    Z = X[:1] * (1 + 1e-12)
    assert k(X[:1], Z)[0, 0] != diag[0]


@pytest.mark.parametrize("normalise", [False, True])
def test_identical_rows_in_precomputed_gram_helpers(normalise):
    """The experiments' Gram helper (pairs of a test set against the training set)."""
    from qntk_sklearn.experiments._cnn import gram_matrices

    X, Y = _with_copies(normalise)
    k = FullyConnectedNTK(depth=200)
    K, K_test = gram_matrices(k, X, Y)
    diag = k.diag(X)
    np.testing.assert_array_equal(np.diag(K), diag)
    assert K[3, 9] == diag[3]
    np.testing.assert_array_equal(K_test[[0, 1, 2], [4, 0, 7]], diag[[4, 0, 7]])
    np.testing.assert_allclose(K_test, k(Y, X), rtol=1e-12)


def test_diagonal_is_bitwise_independent_of_the_batch():
    # Identical rows take diag(x) computed with other rows than diag(X): the values
    # must not depend on the array they are computed in.
    X = np.random.default_rng(4).normal(size=(37, 9))
    for params in IDENTICAL_CONFIGS:
        k = FullyConnectedNTK(**params)
        diag = k.diag(X)
        for i in range(len(X)):
            assert k.diag(X[i : i + 1])[0] == diag[i]


# At depth 200 the kernel is effectively diagonal (the regressor says so, and predicts
# the mean away from the data): what is tested is the training points themselves.
@pytest.mark.filterwarnings("ignore::qntk_sklearn.DiagonalKernelWarning")
@pytest.mark.parametrize("normalise", [False, True])
def test_regressor_predicts_its_training_points(normalise):
    """Issue 8: at depth 200 predict(X) missed y by ~2 although kappa(K) = 1.4."""
    from qntk_sklearn import QuantumNTKRegressor

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 5)), rng.normal(size=50)
    if normalise:
        X /= np.linalg.norm(X, axis=1, keepdims=True)
    # diag_reg=0.0: the network trained to zero loss (the regressor's default ridge
    # of 0.1 would not interpolate).
    model = QuantumNTKRegressor(depth=200, sparsity="none", diag_reg=0.0).fit(X, y)
    np.testing.assert_allclose(model.predict(X), y, atol=1e-8)
    np.testing.assert_allclose(model.predict(X[::-1].copy()), y[::-1], atol=1e-8)


# --- the equal-norm fast path -------------------------------------------------------
@pytest.fixture
def sphere(rng):
    X = rng.normal(size=(40, 6))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


@pytest.mark.parametrize("params", CONFIGS + [dict(depth=300), dict(depth=120)])
def test_unit_sphere_uses_the_table_and_matches_the_recursion(params, sphere):
    """Normalised rows read the table (bitwise equal to it) and agree with the
    (accurate) recursion to 1e-12, and with the plain one off the diagonal."""
    k = FullyConnectedNTK(**params)
    ev = k._evaluator()
    K = k(sphere)
    sq = np.einsum("ij,ij->i", sphere, sphere)
    rho = (sphere @ sphere.T) / np.sqrt(sq[:, None] * sq[None, :])
    off = ~np.eye(len(sphere), dtype=bool)
    p = 1.0 if ev.homogeneous else ev.W2 / sphere.shape[1]
    table = ev._table(p)(rho)
    if ev.homogeneous:  # the engine's own order of operations
        table = (ev.W2 / sphere.shape[1]) * np.sqrt(sq[:, None] * sq[None, :]) * table
    np.testing.assert_array_equal(K[off], table[off])
    recursion = k.at_correlation(rho[off][:200], 1.0, sphere.shape[1])
    np.testing.assert_allclose(K[off][:200], recursion, rtol=1e-12)
    if k.depth <= 40:
        np.testing.assert_allclose(K[off], reference_matrix(k, sphere)[off], rtol=1e-10)


def test_fast_path_is_independent_of_tiling(sphere, rng):
    """Which path an entry takes depends on its two rows only, so tiles, chunks and
    pairs agree (to the rounding of their inner products, which BLAS computes
    differently for different tile shapes)."""
    X = np.vstack([sphere, rng.normal(size=(7, 6))])  # mixed: some rows unnormalised
    for params in (dict(depth=50), dict(depth=20, activation="relu", b_std=0.1)):
        k = FullyConnectedNTK(**params)
        K = k(X)
        small = FullyConnectedNTK(**params)
        small._max_block_entries = 50
        np.testing.assert_allclose(small(X), K, rtol=1e-12)
        np.testing.assert_allclose(small(X[:9], X), K[:9], rtol=1e-12)
        rows, cols = np.triu_indices(len(X))
        np.testing.assert_allclose(
            small.pairs(X, rows=rows, cols=cols), K[rows, cols], rtol=1e-12
        )


def test_norms_equal_within_tolerance_share_a_table(sphere):
    k = FullyConnectedNTK(depth=100)
    d = sphere.shape[1]
    K = k(sphere)
    # Norms off by a few ulp (Normalizer's output) or 1e-14: the same table entries.
    for scale in (1 + 4e-16, 1 - 1e-14):
        np.testing.assert_allclose(k(sphere * math.sqrt(scale)), K, rtol=1e-13)
    # Off by 1e-9: the recursion, and still the kernel of these slightly longer rows.
    X = sphere * (1 + 1e-9 * np.arange(len(sphere)))[:, None]
    ev = k._evaluator()
    sq = np.einsum("ij,ij->i", X, X)
    expected = reference_fc(
        sq[:, None],
        sq[None, :],
        X @ X.T,
        d,
        100,
        default_W_std("erf"),
        0.0,
        "erf",
        "ntk",
    )
    off = ~np.eye(len(X), dtype=bool)
    np.testing.assert_allclose(k(X)[off], expected[off], rtol=1e-9)
    assert ev._table(ev.W2 / d) is ev._table(ev.W2 / d)  # built once, cached


def test_relu_without_bias_is_homogeneous_any_norms(X):
    # relu with b_std = 0: k(a x, b y) = a b k(x, y), so one table serves every norm.
    k = FullyConnectedNTK(depth=30, activation="relu")
    K = k(X)
    expected = reference_matrix(k, X)
    off = ~np.eye(len(X), dtype=bool)
    np.testing.assert_allclose(K[off], expected[off], rtol=1e-12)
    np.testing.assert_allclose(k(2.0 * X, X)[off], 2.0 * K[off], rtol=1e-13)
    # On the diagonal the cosine of 2x and x rounds within an ulp of 1, where relu's
    # kernel is steep (its slope grows like depth * sqrt(1 - rho)): 1e-7.
    np.testing.assert_allclose(np.diag(k(2.0 * X, X)), 2.0 * np.diag(K), rtol=1e-6)


def test_table_build_is_cached_and_kernels_still_pickle(sphere):
    k = FullyConnectedNTK(depth=70, b_std=0.1)
    K = k(sphere)
    restored = pickle.loads(pickle.dumps(k))
    np.testing.assert_array_equal(restored(sphere), K)
    np.testing.assert_array_equal(clone(k)(sphere), K)


@pytest.mark.parametrize("params", [dict(depth=30), dict(depth=8, activation="relu")])
def test_jax_backend_matches_numpy(params, sphere, X):
    """The path used on accelerators, run here on the CPU."""
    k = FullyConnectedNTK(**params)
    on_jax = FullyConnectedNTK(**params)
    on_jax._backend = "jax"
    for A in (sphere, X):
        np.testing.assert_allclose(on_jax(A), k(A), rtol=1e-12)
        np.testing.assert_allclose(
            on_jax(A, A[:3] + 0.1), k(A, A[:3] + 0.1), rtol=1e-12
        )
        # jax's einsum may round |x|^2 apart from numpy's by an ulp.
        np.testing.assert_allclose(on_jax.diag(A), k.diag(A), rtol=1e-14)
        rows, cols = np.triu_indices(len(A), k=1)
        np.testing.assert_allclose(
            on_jax.pairs(A, rows=rows, cols=cols), k(A)[rows, cols], rtol=1e-12
        )


@pytest.mark.skipif(
    jax.default_backend() == "cpu", reason="no GPU or TPU visible to jax"
)
def test_runs_on_the_accelerator(sphere):  # pragma: no cover - needs a device
    from qntk_sklearn.kernels._fc_engine import default_backend

    assert default_backend() == "jax"
    k = FullyConnectedNTK(depth=100)
    on_cpu = FullyConnectedNTK(depth=100)
    on_cpu._backend = "numpy"
    np.testing.assert_allclose(k(sphere), on_cpu(sphere), rtol=1e-12)


@pytest.mark.parametrize("scale", [1e-160, 1e-200, 0.0])
@pytest.mark.parametrize("params", [dict(depth=5), dict(depth=5, activation="relu")])
def test_tiny_and_zero_inputs_are_quiet_and_finite(scale, params, sphere):
    # |x|^2 |y|^2 underflows here: the cosines come from |x| |y| instead, with no
    # division by zero and no NaN (the kernel of a zero input is 0 without bias).
    import warnings

    X = np.vstack([sphere[:5] * scale, sphere[5:8]])
    k = FullyConnectedNTK(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        K = k(X)
        rows, cols = np.triu_indices(len(X))
        pairs = k.pairs(X, rows=rows, cols=cols)
    assert np.all(np.isfinite(K))
    np.testing.assert_allclose(pairs, K[rows, cols], rtol=1e-12, atol=1e-300)
    assert np.all(np.abs(K[:5, :5]) <= 1e-300)
