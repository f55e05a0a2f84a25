"""Oracle tests against neural-tangents (the optional extra).

Skipped when neural-tangents is missing, unless ``QNTK_REQUIRE_NT=1`` (set by CI in
the environment with the extra), where a missing or broken neural-tangents fails.
"""

import functools
import math
import os
import pickle

import jax
import numpy as np
import pytest

if os.environ.get("QNTK_REQUIRE_NT") == "1":
    try:
        import neural_tangents  # noqa: F401
    except Exception as exc:
        raise ImportError(
            "QNTK_REQUIRE_NT=1 but neural-tangents does not import; install "
            "'qntk-sklearn[neural-tangents]' (it requires jax < 0.6)."
        ) from exc
else:
    pytest.importorskip("neural_tangents")

from neural_tangents import stax  # noqa: E402

from qntk_sklearn.kernels import (  # noqa: E402
    FullyConnectedNTK,
    MyrtleNTK,
    StaxKernel,
    default_W_std,
)
from qntk_sklearn.kernels._base import x64  # noqa: E402
from qntk_sklearn.kernels._nt import myrtle_layers  # noqa: E402

pytestmark = pytest.mark.nt

SQRT2 = math.sqrt(2.0)


def fc_kernel_fn(depth, activation, W_std, b_std, unrolled=False):
    """neural-tangents' kernel_fn of depth x [Dense, act] -> Dense(1).

    Unless ``unrolled``, layers 2..depth are one ``stax.repeat`` (a ``lax.scan``, the
    same kernel), which runs ~10x faster than 100 unrolled layers op by op.
    """
    act = stax.Erf() if activation == "erf" else stax.Relu()
    dense = functools.partial(stax.Dense, 512, W_std=W_std, b_std=b_std)
    if unrolled or depth < 3:
        hidden = [dense(), act] * depth
    else:
        hidden = [dense(), act, stax.repeat(stax.serial(dense(), act), depth - 1)]
    return stax.serial(*hidden, stax.Dense(1, W_std=W_std, b_std=b_std))[2]


def test_repeat_is_the_unrolled_network(X):
    both = [fc_kernel_fn(100, "erf", 1.5, 0.1, unrolled=u) for u in (False, True)]
    K_repeat, K_unrolled = (nt_matrix(f, X, None, "ntk") for f in both)
    np.testing.assert_allclose(K_repeat, K_unrolled, rtol=1e-13)


def nt_matrix(kernel_fn, X, Y, get):
    with x64():
        out = kernel_fn(X, Y, get)
        if isinstance(get, tuple):
            return tuple(np.asarray(o, dtype=np.float64) for o in out)
        return np.asarray(out, dtype=np.float64)


@pytest.fixture(scope="module")
def X():
    rng = np.random.default_rng(7)
    # Not normalised: norms between about 1 and 4.
    return rng.normal(size=(6, 5)) * rng.uniform(0.4, 1.6, size=(6, 1))


def diag_rtol(depth, activation):
    """Tolerance on diagonal entries, where the kernel is steepest.

    At x.x' = |x| |x'| a 1e-16 rounding of the inner product (neural-tangents takes
    it from a matrix product, we from the norms) moves a depth-100 erf entry by about
    1e-6 relative (neural-tangents itself is ~1e-5 off a 50-digit reference there);
    relu's arccos turns it into ~1e-8 per layer. Off the diagonal the kernel is
    smooth and both agree to 1e-8.
    """
    if activation == "relu":
        return 1e-6
    return 1e-8 if depth <= 10 else 1e-5


PARAMS = [(None, 0.0), (1.1, 0.0), (1.6, 0.3)]


@pytest.mark.parametrize("activation", ["erf", "relu"])
@pytest.mark.parametrize("depth", [1, 2, 10, 100])
@pytest.mark.parametrize("W_std, b_std", PARAMS)
def test_fully_connected_matches_neural_tangents(activation, depth, W_std, b_std, X):
    W = default_W_std(activation) if W_std is None else W_std
    kernel_fn = fc_kernel_fn(depth, activation, W, b_std)
    Y = X[:4] * 0.7 + 0.1
    off = ~np.eye(len(X), dtype=bool)
    nt_XX = nt_matrix(kernel_fn, X, None, ("ntk", "nngp"))
    nt_XY = nt_matrix(kernel_fn, X, Y, ("ntk", "nngp"))
    for get, K_nt, K_nt_XY in zip(("ntk", "nngp"), nt_XX, nt_XY, strict=True):
        k = FullyConnectedNTK(depth, activation, W_std=W_std, b_std=b_std, get=get)
        K = k(X)
        np.testing.assert_allclose(K[off], K_nt[off], rtol=1e-8)
        np.testing.assert_allclose(
            np.diag(K), np.diag(K_nt), rtol=diag_rtol(depth, activation)
        )
        np.testing.assert_allclose(k(X, Y), K_nt_XY, rtol=1e-8)


@pytest.mark.parametrize("activation", ["erf", "relu"])
@pytest.mark.parametrize("depth", [1, 2, 10, 100])
@pytest.mark.parametrize("W_std, b_std", PARAMS)
def test_fully_connected_on_the_sphere_matches_neural_tangents(
    activation, depth, W_std, b_std, X
):
    """Unit-norm inputs take the tabulated equal-norm path: the same 1e-8."""
    W = default_W_std(activation) if W_std is None else W_std
    kernel_fn = fc_kernel_fn(depth, activation, W, b_std)
    S = X / np.linalg.norm(X, axis=1, keepdims=True)
    T = S[::-1][:4] * 0.8 + 0.3
    T /= np.linalg.norm(T, axis=1, keepdims=True)
    off = ~np.eye(len(S), dtype=bool)
    nt_SS = nt_matrix(kernel_fn, S, None, ("ntk", "nngp"))
    nt_ST = nt_matrix(kernel_fn, S, T, ("ntk", "nngp"))
    for get, K_nt, K_nt_ST in zip(("ntk", "nngp"), nt_SS, nt_ST, strict=True):
        k = FullyConnectedNTK(depth, activation, W_std=W_std, b_std=b_std, get=get)
        np.testing.assert_allclose(k(S)[off], K_nt[off], rtol=1e-8)
        np.testing.assert_allclose(k(S, T), K_nt_ST, rtol=1e-8)


@pytest.mark.parametrize("activation, depth", [("erf", 10), ("erf", 100), ("relu", 10)])
def test_stax_kernel_equals_fully_connected(activation, depth, X):
    W = default_W_std(activation)
    kernel_fn = fc_kernel_fn(depth, activation, W, 0.2)
    for get in ("ntk", "nngp"):
        k = StaxKernel(kernel_fn, get=get)
        fc = FullyConnectedNTK(depth, activation, b_std=0.2, get=get)
        K, K_fc = k(X), fc(X)
        off = ~np.eye(len(X), dtype=bool)
        np.testing.assert_allclose(K[off], K_fc[off], rtol=1e-8)
        np.testing.assert_allclose(
            k.diag(X), fc.diag(X), rtol=diag_rtol(depth, activation)
        )
        Y = X[:2] + 0.05
        np.testing.assert_allclose(k(X, Y), fc(X, Y), rtol=1e-8)


def test_stax_kernel_tiles_pairs_and_symmetry(X):
    kernel_fn = fc_kernel_fn(5, "erf", 1.4, 0.1)
    k = StaxKernel(kernel_fn)
    K = k(X)
    np.testing.assert_array_equal(K, K.T)
    # Ragged, padded tiles (6 rows in tiles of 4) and the symmetric path.
    tiled = StaxKernel(kernel_fn, batch_size=4)
    np.testing.assert_allclose(tiled(X), K, rtol=1e-12)
    np.testing.assert_allclose(tiled(X, X[:5]), K[:, :5], rtol=1e-12)
    rng = np.random.default_rng(0)
    rows, cols = rng.integers(0, len(X), size=(2, 25))
    for kernel in (k, tiled):
        np.testing.assert_allclose(
            kernel.pairs(X, rows=rows, cols=cols), K[rows, cols], rtol=1e-12
        )
    np.testing.assert_allclose(
        k.pairs(X, X[:3], rows=[5, 0], cols=[2, 1]), K[[5, 0], [2, 1]]
    )


def test_stax_kernel_rejects_non_matrix_output():
    kernel_fn = stax.serial(stax.Conv(1, (3, 3), padding="SAME"), stax.Relu())[2]
    k = StaxKernel(kernel_fn, input_shape=(4, 4, 1))
    with pytest.raises(ValueError, match="`kernel_fn` must return a matrix"):
        k(np.ones((2, 16)), np.zeros((3, 16)) + 0.5)
    with pytest.raises(TypeError, match="`kernel_fn` must be a neural-tangents"):
        StaxKernel(kernel_fn=None)(np.eye(2))


@pytest.fixture
def x64_off():
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", False)
    yield
    jax.config.update("jax_enable_x64", previous)


def test_stax_kernel_float64_with_x64_off(x64_off, X):
    # A float32 depth-100 erf recursion is ~20% off; float64 agrees to 1e-8.
    k = StaxKernel(fc_kernel_fn(100, "erf", default_W_std("erf"), 0.0))
    K = k(X, X[:3] + 0.05)
    assert K.dtype == np.float64
    np.testing.assert_allclose(K, FullyConnectedNTK(100)(X, X[:3] + 0.05), rtol=1e-8)
    assert not jax.config.jax_enable_x64


def myrtle_reference(depth, W_std=SQRT2, b_std=0.0):
    """The paper's network written out layer by layer (no stax.repeat)."""
    conv = functools.partial(
        stax.Conv, W_std=W_std, b_std=b_std, padding="SAME", filter_shape=(3, 3)
    )
    block = [conv(1), stax.Relu()] * (depth // 3)
    pool = stax.AvgPool((2, 2), strides=(2, 2))
    layers = [*block, pool, *block, pool, *block, pool, pool]
    layers += [
        stax.Flatten(),
        stax.Dense(2, W_std=W_std, b_std=b_std),
        stax.Erf(),
        stax.Dense(1, W_std=W_std, b_std=b_std),
    ]
    return stax.serial(*layers)[2]


def assert_myrtle_close(K, K_ref):
    off = ~np.eye(len(K), dtype=bool)
    np.testing.assert_allclose(K[off], K_ref[off], rtol=1e-10)
    # Diagonal: relu's arccos at correlation 1 - 1e-16 (see diag_rtol).
    np.testing.assert_allclose(np.diag(K), np.diag(K_ref), rtol=1e-6)


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(3)
    return rng.normal(size=(4, 16, 16, 1)) * rng.uniform(0.5, 1.5, size=(4, 1, 1, 1))


@pytest.fixture(scope="module")
def myrtle3(images):
    k = MyrtleNTK(depth=3, image_shape=(16, 16, 1))
    return k, k(images.reshape(len(images), -1))


def test_myrtle_matches_direct_construction(myrtle3, images):
    k, K = myrtle3
    assert_myrtle_close(K, nt_matrix(myrtle_reference(3), images, None, "ntk"))
    np.testing.assert_allclose(K, K.T, rtol=1e-14)
    eigenvalues = np.linalg.eigvalsh(K)
    assert eigenvalues.min() >= -1e-10 * eigenvalues.max()
    np.testing.assert_allclose(k(images), K, rtol=1e-14)  # 4-D input


@pytest.mark.parametrize("depth", [3, 6, 15])
def test_myrtle_layers_are_the_network(depth, images):
    # From 5 layers per stage (depth 15) on, a stage is [conv, relu] and a stax.repeat
    # of 2 x [conv, relu]: the same kernel as the layers written out.
    layers = myrtle_layers(stax, depth, SQRT2, 0.1)
    K = nt_matrix(stax.serial(*layers)[2], images, None, "ntk")
    assert_myrtle_close(
        K, nt_matrix(myrtle_reference(depth, b_std=0.1), images, None, "ntk")
    )


def test_myrtle_pairs_tiles_pickle_and_parameters(myrtle3, images):
    k, K = myrtle3
    tiled = MyrtleNTK(depth=3, image_shape=(16, 16, 1), batch_size=3)
    np.testing.assert_allclose(tiled(images), K, rtol=1e-12)  # ragged tiles
    rows, cols = np.array([0, 3, 2, 1]), np.array([1, 3, 0, 1])
    np.testing.assert_allclose(
        k.pairs(images, rows=rows, cols=cols), K[rows, cols], rtol=1e-12
    )
    restored = pickle.loads(pickle.dumps(k))  # after evaluation: cache left out
    assert restored == k
    # Changing parameters rebuilds the network.
    restored.set_params(depth=6, b_std=0.2, get="nngp")
    K_ref = nt_matrix(myrtle_reference(6, b_std=0.2), images, None, "nngp")
    assert_myrtle_close(restored(images), K_ref)


def test_myrtle_non_square_multichannel():
    x = np.random.default_rng(5).normal(size=(3, 16, 20, 2))
    k = MyrtleNTK(depth=3, image_shape=(16, 20, 2))
    K_ref = nt_matrix(myrtle_reference(3), x[:2], x[2:], "ntk")
    np.testing.assert_allclose(k(x[:2].reshape(2, -1), x[2:]), K_ref, rtol=1e-10)


def test_stax_kernel_reshapes_images(myrtle3, images):
    _, K = myrtle3
    k = StaxKernel(myrtle_reference(3), input_shape=(16, 16, 1))
    flat = images.reshape(len(images), -1)
    np.testing.assert_allclose(k(flat[:2], flat[2:]), K[:2, 2:], rtol=1e-10)


def test_stax_kernel_pairs_never_evaluate_a_tile(X):
    seen = []
    inner = fc_kernel_fn(3, "erf", 1.4, 0.0)

    def recording_kernel_fn(x1, x2, get):
        seen.append((x1.shape[0], x2.shape[0]))  # at trace time
        return inner(x1, x2, get)

    k = StaxKernel(recording_kernel_fn)
    values = k.pairs(X, rows=[0, 2, 5], cols=[1, 2, 3])
    assert seen and set(seen) == {(1, 1)}  # only single pairs, under vmap
    np.testing.assert_allclose(values, k(X)[[0, 2, 5], [1, 2, 3]], rtol=1e-12)


def test_stax_kernel_clone_and_pickle(X):
    from sklearn.base import clone

    kernel_fn = fc_kernel_fn(2, "relu", 1.4, 0.0)
    k = StaxKernel(kernel_fn, get="nngp")
    assert clone(k).kernel_fn is kernel_fn and clone(k) == k
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        pickle.dumps(k)  # a stax closure does not pickle (documented)


def test_myrtle_clones_share_compiled_functions(myrtle3):
    from sklearn.base import clone

    k, _ = myrtle3
    assert clone(k)._compiled() is k._compiled()
    assert clone(k).set_params(get="nngp")._compiled() is not k._compiled()
