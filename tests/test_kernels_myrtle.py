"""MyrtleNTK, the paper's CNN kernel computed natively (no neural-tangents needed).

The oracle comparison with neural-tangents is in test_kernels_nt.py; here the kernel
is checked against an independent numpy transcription of the recursion, and for its
invariants, memory bound and errors.
"""

import math
import pickle
import tracemalloc

import numpy as np
import pytest
from sklearn.base import clone

from qntk_sklearn.kernels import MyrtleNTK, _myrtle
from qntk_sklearn.kernels._conv_loops import atan2_nonnegative

SQRT2 = math.sqrt(2.0)


# --- an independent transcription of the recursion, in plain numpy ------------------
def _reference(x, y, depth, W_std=SQRT2, b_std=0.0):
    """NTK and NNGP of the Myrtle network for pairs (x[i], y[i]), layer by layer.

    Covariances are (pairs, H, W, H, W) arrays indexed [p, q]; the convolution is
    the sum of the 9 joint shifts with explicit zero padding, ReLU the arc-cosine
    formulas, pooling a reshape-mean, Flatten the mean of the diagonal.
    """
    W2, b2 = W_std**2, b_std**2
    C = x.shape[-1]

    def cov(a, b):
        return np.einsum("nhwc,nijc->nhwij", a, b) / C

    def conv(S):
        n, H, W = S.shape[:3]
        P = np.zeros((n, H + 2, W + 2, H + 2, W + 2))
        P[:, 1:-1, 1:-1, 1:-1, 1:-1] = S
        out = np.zeros_like(S)
        for dh in (-1, 0, 1):
            for dw in (-1, 0, 1):
                out += P[
                    :, 1 + dh : H + 1 + dh, 1 + dw : W + 1 + dw,
                    1 + dh : H + 1 + dh, 1 + dw : W + 1 + dw,
                ]  # fmt: skip
        return out / 9

    def var(S):
        n, H, W = S.shape[:3]
        flat = S.reshape(n, H * W, H * W)
        return np.diagonal(flat, axis1=1, axis2=2).reshape(n, H, W)

    def relu(S, v1, v2):
        norm = np.sqrt(v1[:, :, :, None, None] * v2[:, None, None, :, :])
        rho = np.clip(S / norm, -1.0, 1.0)
        theta = np.arccos(rho)
        value = norm * (np.sin(theta) + (np.pi - theta) * rho) / (2 * np.pi)
        return value, (np.pi - theta) / (2 * np.pi)

    def pool(S):
        n, H, W = S.shape[:3]
        h, w = H // 2, W // 2
        S = S[:, : 2 * h, : 2 * w, : 2 * h, : 2 * w]
        return S.reshape(n, h, 2, w, 2, h, 2, w, 2).mean(axis=(2, 4, 6, 8))

    sxx, syy, sxy = cov(x, x), cov(y, y), cov(x, y)
    theta = np.zeros_like(sxy)
    for stage in range(3):
        for _ in range(depth // 3):
            sxx, syy = W2 * conv(sxx) + b2, W2 * conv(syy) + b2
            sxy = W2 * conv(sxy) + b2
            theta = W2 * conv(theta) + sxy
            vx, vy = var(sxx), var(syy)
            sxx, _ = relu(sxx, vx, vx)
            syy, _ = relu(syy, vy, vy)
            sxy, dot = relu(sxy, vx, vy)
            theta = theta * dot
        for _ in range(1 if stage < 2 else 2):
            sxx, syy, sxy, theta = pool(sxx), pool(syy), pool(sxy), pool(theta)
    qx, qy, s, t = (var(a).mean(axis=(1, 2)) for a in (sxx, syy, sxy, theta))
    qx, qy, s = W2 * qx + b2, W2 * qy + b2, W2 * s + b2
    t = s + W2 * t
    root = np.sqrt((1 + 2 * qx) * (1 + 2 * qy) - 4 * s * s)
    s_erf = (2 / np.pi) * np.arcsin(2 * s / np.sqrt((1 + 2 * qx) * (1 + 2 * qy)))
    t = t * (4 / np.pi) / root
    s = W2 * s_erf + b2
    return s + W2 * t, s


def _reference_matrix(X, Y, depth, get="ntk", **params):
    i, j = np.meshgrid(np.arange(len(X)), np.arange(len(Y)), indexing="ij")
    ntk, nngp = _reference(X[i.ravel()], Y[j.ravel()], depth, **params)
    return (ntk if get == "ntk" else nngp).reshape(len(X), len(Y))


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(3)
    return rng.normal(size=(5, 16, 16, 1)) * rng.uniform(0.5, 1.5, size=(5, 1, 1, 1))


@pytest.fixture(scope="module")
def myrtle6(images):
    k = MyrtleNTK(depth=6, image_shape=(16, 16, 1))
    return k, k(images)


# --- values ---------------------------------------------------------------------------
def test_depth_3_on_constant_images_by_hand():
    # Constant images c1, c2 (one channel), depth 3, b = 0: every first-layer
    # correlation is exactly +1 or -1; the covariances vary with the position only
    # through the zero padding. The transcription above, written independently of the
    # package, gives the value (its arccos is ill-conditioned at correlation +-1,
    # hence 1e-10 rather than 1e-12).
    x = np.full((1, 16, 16, 1), 0.5)
    y = np.full((1, 16, 16, 1), -1.5)
    k = MyrtleNTK(depth=3, image_shape=(16, 16, 1))
    for a, b in ((x, x), (x, y), (y, y)):
        expected = _reference(a, b, 3)[0]
        np.testing.assert_allclose(k(a, b)[0, 0], expected[0], rtol=1e-10)
    # Anti-correlated images: strictly inside the Cauchy-Schwarz bound.
    assert k(x, y)[0, 0] < 0.99 * math.sqrt(k(x)[0, 0] * k(y)[0, 0])


@pytest.mark.parametrize(
    "depth, shape, params",
    [
        (3, (16, 16, 1), {}),
        (6, (16, 16, 1), dict(b_std=0.3, W_std=1.2)),
        (3, (17, 20, 2), {}),  # odd height: 'VALID' pooling drops a row
    ],
)
@pytest.mark.parametrize("get", ["ntk", "nngp"])
def test_matches_the_numpy_transcription(depth, shape, params, get):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3,) + shape)
    Y = rng.normal(size=(2,) + shape)
    k = MyrtleNTK(depth=depth, image_shape=shape, get=get, **params)
    np.testing.assert_allclose(
        k(X, Y), _reference_matrix(X, Y, depth, get, **params), rtol=1e-11
    )
    np.testing.assert_allclose(
        k.diag(X), np.diag(_reference_matrix(X, X, depth, get, **params)), rtol=1e-9
    )


def test_atan2_helper_matches_numpy():
    rng = np.random.default_rng(0)
    y = np.concatenate([rng.uniform(0, 3, 5000), [0.0, 0.0, 1.0, 2.0, 1e-300]])
    x = np.concatenate([rng.uniform(-3, 3, 5000), [0.0, -1.0, 0.0, -2.0, 1.0]])
    ours = np.array([atan2_nonnegative(a, b) for a, b in zip(y, x, strict=True)])
    np.testing.assert_allclose(ours, np.arctan2(y, x), rtol=4e-16, atol=1e-300)


# --- invariants -----------------------------------------------------------------------
def test_block_pairs_diag_symmetry_and_psd(myrtle6, images):
    k, K = myrtle6
    n = len(images)
    assert K.shape == (n, n) and K.dtype == np.float64
    np.testing.assert_array_equal(K, K.T)
    eigenvalues = np.linalg.eigvalsh(K)
    assert eigenvalues.min() >= -1e-12 * eigenvalues.max()
    np.testing.assert_allclose(np.diag(K), k.diag(images), rtol=1e-14)
    rows, cols = np.array([0, 4, 2, 1, 3]), np.array([1, 4, 0, 1, 2])
    np.testing.assert_allclose(
        k.pairs(images, rows=rows, cols=cols), K[rows, cols], rtol=1e-13
    )
    # Flattened rows, a rectangular block, and the block of the transposed pair.
    flat = images.reshape(n, -1)
    np.testing.assert_allclose(k(flat[:2], flat[2:]), K[:2, 2:], rtol=1e-13)
    np.testing.assert_allclose(k(flat[2:], flat[:2]), K[2:, :2], rtol=1e-13)


def test_batch_sizes_and_threads_give_the_same_kernel(myrtle6, images):
    _, K = myrtle6
    for params in (dict(batch_size=2), dict(batch_size=7, n_jobs=2), dict(n_jobs=-1)):
        k = MyrtleNTK(depth=6, image_shape=(16, 16, 1), **params)
        np.testing.assert_allclose(k(images), K, rtol=1e-13)


def test_pickle_clone_and_parameters(myrtle6, images):
    k, K = myrtle6
    assert clone(k) == k and clone(k) is not k
    restored = pickle.loads(pickle.dumps(k))
    assert restored == k
    np.testing.assert_array_equal(restored(images), K)
    assert set(k.get_params()) == {
        "depth",
        "image_shape",
        "W_std",
        "b_std",
        "get",
        "batch_size",
        "n_jobs",
    }
    assert k.get_params()["W_std"] == pytest.approx(SQRT2)
    assert restored.set_params(get="nngp") != k


def test_clip_threshold_is_the_largest_off_diagonal_entry(myrtle6, images):
    k, K = myrtle6
    off = ~np.eye(len(images), dtype=bool)
    assert k.clip_threshold(images) == pytest.approx(np.abs(K[off]).max(), rel=1e-13)


# --- memory ---------------------------------------------------------------------------
def test_pairs_gather_each_image_once_and_bound_memory(monkeypatch):
    rng = np.random.default_rng(0)
    n = 60
    X = rng.normal(size=(n, 256))
    rows, cols = rng.integers(0, n, size=(2, 150))
    k = MyrtleNTK(depth=3, image_shape=(16, 16, 1))
    expected = k.pairs(X, rows=rows, cols=cols)
    seen, groups = [], []
    self_stats, pairs = _myrtle._Network.self_stats, _myrtle._Network.pairs

    def record_stats(net, images):
        seen.append(images.shape[0])
        return self_stats(net, images)

    def record_pairs(net, X1, X2, s1, s2, i1, i2):
        groups.append(i1.shape[0])
        return pairs(net, X1, X2, s1, s2, i1, i2)

    monkeypatch.setattr(_myrtle._Network, "self_stats", record_stats)
    monkeypatch.setattr(_myrtle._Network, "pairs", record_pairs)
    # A statistics budget of about 20 images: the pairs are evaluated in chunks.
    net = k._validated()
    monkeypatch.setattr(_myrtle, "_STATS_BYTES", 20 * 8 * net.stats_size)
    tracemalloc.start()
    values = k.pairs(X, rows=rows, cols=cols)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    np.testing.assert_allclose(values, expected, rtol=1e-13)
    assert max(seen) <= 20 and sum(groups) == 150
    assert sum(seen) < 2 * 150  # images gathered once per chunk, not once per pair
    # Statistics of 20 images and the buffers of one pass (2 x 18^4 numbers, a few
    # of them): far below n^2 pair covariances (60^2 x 65536 x 8 bytes = 1.9 GB).
    assert peak < 40e6


# --- errors ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params, match",
    [
        (dict(depth=4), r"`depth` must be a positive multiple of 3.*got 4"),
        (dict(depth=0), r"`depth` must be a positive multiple of 3.*got 0"),
        (dict(depth=-3), r"`depth` must be a positive multiple of 3.*got -3"),
        (dict(depth=True), r"`depth` must be a positive multiple of 3.*got True"),
        (dict(depth=6.0), r"`depth` must be a positive multiple of 3.*got 6.0"),
        (dict(W_std=0), r"`W_std` must be positive; got 0"),
        (dict(W_std=math.inf), r"`W_std` must be a finite real number; got inf"),
        (dict(b_std=-1.0), r"`b_std` must be non-negative; got -1.0"),
        (dict(get="foo"), r"`get` must be 'ntk' or 'nngp'; got 'foo'"),
        (dict(batch_size=0), r"`batch_size` must be a positive int or None; got 0"),
        (dict(n_jobs=0), r"`n_jobs` must be None, -1 or a positive int; got 0"),
    ],
)
def test_bad_parameters(params, match):
    k = MyrtleNTK(**{"image_shape": (16, 16, 1), **params})
    with pytest.raises(ValueError, match=match):
        k(np.ones((2, 256)))


@pytest.mark.parametrize("image_shape", [(8, 8, 1), (16, 16), (16, 16, 0), 256])
def test_bad_image_shape(image_shape):
    with pytest.raises(ValueError, match=r"`image_shape` must be \(height, width"):
        MyrtleNTK(depth=3, image_shape=image_shape)(np.ones((2, 64)))


def test_input_shape_mismatch_and_non_finite_values():
    k = MyrtleNTK(depth=3, image_shape=(16, 16, 1))
    with pytest.raises(ValueError, match=r"`X` must have shape \(n_samples, 256\)"):
        k(np.ones((2, 255)))
    with pytest.raises(ValueError, match=r"`Y` must have shape \(n_samples, 256\)"):
        k(np.ones((2, 256)), np.ones((2, 16, 16, 2)))
    bad = np.ones((2, 256))
    bad[0, 3] = np.nan
    with pytest.raises(ValueError, match="`X` must contain only finite values"):
        k(bad)
