"""The estimators' predictor against neural-tangents' ``gradient_descent_mse_ensemble``.

The oracle of ``diag_reg`` and of the finite training time ``t`` (and of their
learning-rate convention), in float64. Skipped when neural-tangents is missing, unless
``QNTK_REQUIRE_NT=1``.
"""

import functools
import os

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

import neural_tangents as nt  # noqa: E402
from neural_tangents import stax  # noqa: E402

from qntk_sklearn import QuantumNTKRegressor  # noqa: E402
from qntk_sklearn.kernels import default_W_std  # noqa: E402
from qntk_sklearn.kernels._base import x64  # noqa: E402

pytestmark = pytest.mark.nt


def fc_kernel_fn(depth, b_std=0.0):
    W = default_W_std("erf")
    dense = functools.partial(stax.Dense, 512, W_std=W, b_std=b_std)
    hidden = [layer for _ in range(depth) for layer in (dense(), stax.Erf())]
    return stax.serial(*hidden, stax.Dense(1, W_std=W, b_std=b_std))[2]


@pytest.fixture(scope="module")
def data():
    r = np.random.default_rng(11)
    X = r.normal(size=(40, 5))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    Y = np.c_[np.sin(3 * X[:, 0]), X[:, 1] * X[:, 2]] + 0.05 * r.normal(size=(40, 2))
    return X[:30], Y[:30], X[30:]


def nt_predict(depth, X, Y, X_test, learning_rate, diag_reg, t, b_std=0.0):
    """neural-tangents' mean prediction for centred targets, plus the mean."""
    mean = Y.mean(axis=0)
    with x64():
        predict_fn = nt.predict.gradient_descent_mse_ensemble(
            fc_kernel_fn(depth, b_std),
            X,
            Y - mean,
            learning_rate=learning_rate,
            diag_reg=diag_reg,
        )
        out = predict_fn(t=t, x_test=X_test, get="ntk")
    return np.asarray(out, dtype=np.float64) + mean


@pytest.mark.parametrize("t", [None, 0.3, 3.0, 40.0])
@pytest.mark.parametrize("diag_reg", [0.0, 0.05])
def test_finite_time_and_ridge_match_neural_tangents(data, t, diag_reg):
    X, Y, X_test = data
    depth, learning_rate = 3, 0.5
    expected = nt_predict(depth, X, Y, X_test, learning_rate, diag_reg, t)
    # Our t is neural-tangents' learning_rate * t; both normalise by y_train.size.
    ours_t = None if t is None else learning_rate * t
    reg = QuantumNTKRegressor(depth=depth, diag_reg=diag_reg, t=ours_t).fit(X, Y)
    np.testing.assert_allclose(reg.predict(X_test), expected, rtol=1e-7, atol=1e-9)
    # One output: y_train.size is n, not 2n.
    expected1 = nt_predict(depth, X, Y[:, :1], X_test, learning_rate, diag_reg, t)
    reg1 = QuantumNTKRegressor(depth=depth, diag_reg=diag_reg, t=ours_t)
    reg1.fit(X, Y[:, 0])
    np.testing.assert_allclose(
        reg1.predict(X_test), expected1[:, 0], rtol=1e-7, atol=1e-9
    )


def test_finite_time_with_bias_matches_neural_tangents(data):
    X, Y, X_test = data
    expected = nt_predict(5, X, Y, X_test, 1.0, 0.01, 2.0, b_std=0.3)
    reg = QuantumNTKRegressor(depth=5, b_std=0.3, diag_reg=0.01, t=2.0).fit(X, Y)
    np.testing.assert_allclose(reg.predict(X_test), expected, rtol=1e-7, atol=1e-9)
