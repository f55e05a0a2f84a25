"""
==========================================================
The NTK as a kernel in SVC and Gaussian-process regression
==========================================================

The package's kernels are scikit-learn kernels:
:class:`~qntk_sklearn.FullyConnectedNTK` can be called on two arrays (so
:class:`~sklearn.svm.SVC` accepts it as ``kernel=``) and implements the
:mod:`sklearn.gaussian_process.kernels` API (so it combines with
:class:`~sklearn.gaussian_process.kernels.ConstantKernel` and
:class:`~sklearn.gaussian_process.kernels.WhiteKernel` inside a
:class:`~sklearn.gaussian_process.GaussianProcessRegressor`).
The last section compares the Gaussian process with
:class:`~qntk_sklearn.QuantumNTKRegressor`, the trained network itself.

With ``get="ntk"`` the kernel describes the *trained* infinite-width network; with
``get="nngp"`` it is the covariance of the *randomly initialised* network's outputs,
the natural prior of a Bayesian neural network.
"""

# %%
# The kernel as a function of the angle
# -------------------------------------
# For unit-norm inputs the fully-connected kernel depends only on the cosine of the
# angle between them. Deeper networks flatten it: far-apart and nearby points look
# alike, and only (near-)identical points stand out.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, WhiteKernel
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer, StandardScaler
from sklearn.svm import SVC

from qntk_sklearn import FullyConnectedNTK, QuantumNTKRegressor

rho = np.linspace(-1, 1, 201)
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
for depth in (1, 4, 16, 64):
    k = FullyConnectedNTK(depth=depth)
    values = k.at_correlation(rho)
    ax.plot(rho, values / values[-1], label=f"depth {depth}")
ax.set(
    xlabel=r"cosine $x \cdot x'$",
    ylabel=r"$\Theta(x, x') / \Theta(x, x)$",
    title="normalised-erf NTK on the unit sphere",
)
ax.legend()
plt.show()

# %%
# An SVM with the neural tangent kernel
# -------------------------------------
# ``SVC(kernel=FullyConnectedNTK(...))`` computes the Gram matrix with our kernel and
# fits a support vector machine on it.
X, y = load_digits(return_X_y=True)
X, y = X[:500], y[:500]
for name, kernel in [
    ("RBF", "rbf"),
    ("NTK depth 4", FullyConnectedNTK(depth=4)),
    ("NTK depth 16", FullyConnectedNTK(depth=16)),
]:
    svc = make_pipeline(StandardScaler(), Normalizer(), SVC(kernel=kernel, C=10.0))
    scores = cross_val_score(svc, X, y, cv=3)
    print(f"SVC with {name:>12}: accuracy {scores.mean():.3f} +- {scores.std():.3f}")

# %%
# Gaussian-process regression with the NNGP and NTK kernels
# ---------------------------------------------------------
# The fully-connected kernel depends on its inputs only through norms and inner
# products, so on a line it could not tell 1 from 2 by direction. We append a
# constant feature, which makes every point a direction in the plane.
rng = np.random.RandomState(0)
x_train = np.sort(rng.uniform(-3, 3, 25))
y_train = np.sin(x_train) + 0.1 * rng.normal(size=x_train.size)
x_plot = np.linspace(-4, 4, 300)


def features(x):
    return np.column_stack([x, np.ones_like(x)])


fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True, layout="constrained")
for ax, get in zip(axes, ("nngp", "ntk"), strict=True):
    kernel = ConstantKernel(1.0) * FullyConnectedNTK(depth=3, get=get) + WhiteKernel(
        0.01
    )
    gpr = GaussianProcessRegressor(kernel=kernel, normalize_y=True, random_state=0)
    gpr.fit(features(x_train), y_train)
    mean, std = gpr.predict(features(x_plot), return_std=True)
    ax.plot(x_plot, np.sin(x_plot), "k--", lw=1, label="sin(x)")
    ax.scatter(x_train, y_train, s=15, color="k", zorder=3, label="training data")
    ax.plot(x_plot, mean, color="C0", label="posterior mean")
    ax.fill_between(
        x_plot,
        mean - 2 * std,
        mean + 2 * std,
        color="C0",
        alpha=0.2,
        label="mean +- 2 std",
    )
    ax.set(title=f"get={get!r}", xlabel="x")
    print(f"{get}: fitted kernel {gpr.kernel_}")
axes[0].set_ylabel("y")
axes[0].legend(loc="lower right", fontsize="small")
plt.show()

# %%
# The kernel has no hyperparameters of its own (its ``theta`` is empty); the
# Gaussian process tunes the amplitude and the noise level around it by maximising
# the marginal likelihood.
#
# The trained network itself
# --------------------------
# Without the noise term, the NTK posterior mean is the output of the infinite-width
# network trained to convergence on the squared loss, which is what
# :class:`~qntk_sklearn.QuantumNTKRegressor` computes (here with the exact kernel, a
# classical solve and no ridge, ``diag_reg=0.0``: the regressor's default ridge of 0.1
# would smooth). Trained to zero loss, it interpolates the noisy data. Its kernel
# matrix must be well conditioned: a depth-3 kernel on these 25 points has a condition
# number near :math:`10^{14}` and a depth-16 one near :math:`10^6`, so we compare
# depths 32 and 64 (condition numbers about 140 and 1.3). The deeper network
# interpolates with sharper bumps and falls back to the mean in between, closer to a
# nearest-neighbour rule: the depth trade-off of :ref:`choosing` in one dimension.
x_fine = np.linspace(-4, 4, 4001)  # the deep networks' bumps are narrow
fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
ax.plot(x_fine, np.sin(x_fine), "k--", lw=1, label="sin(x)")
ax.scatter(x_train, y_train, s=15, color="k", zorder=3, label="training data")
for depth, color in ((32, "C1"), (64, "C2")):
    reg = QuantumNTKRegressor(depth=depth, sparsity="none", diag_reg=0.0)
    reg.fit(features(x_train), y_train)
    ax.plot(
        x_fine,
        reg.predict(features(x_fine)),
        color=color,
        label=f"QuantumNTKRegressor, depth {depth}",
    )
    train_error = np.abs(reg.predict(features(x_train)) - y_train).max()
    print(
        f"depth {depth}: condition number {reg.condition_number_:.3g}, "
        f"max training error {train_error:.1e}"
    )
ax.set(xlabel="x", ylabel="y", title="trained infinite-width networks")
ax.legend(fontsize="small")
plt.show()
