"""
==================================================
Cross-validating a quantum NTK classifier pipeline
==================================================

:class:`~qntk_sklearn.QuantumNTKClassifier` is an ordinary scikit-learn classifier,
so it goes into a :class:`~sklearn.pipeline.Pipeline` and through
:func:`~sklearn.model_selection.cross_validate` like any other.

The paper's kernel analysis assumes inputs of unit norm, so the pipeline first
standardises every feature and then scales every sample to unit length. The
classifier computes the network's infinite-width neural tangent kernel, sparsifies it
to about ``ln n`` nonzeros per row within each class, and solves the sparse system.
"""

# %%
# Data: ten classes of handwritten digits
# ---------------------------------------
# scikit-learn's 8x8 digits; we keep 600 of them so the example runs in seconds.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer, StandardScaler

from qntk_sklearn import QuantumNTKClassifier

X, y = load_digits(return_X_y=True)
X, y = X[:600], y[:600]
print(f"{X.shape[0]} samples, {X.shape[1]} features, {np.unique(y).size} classes")

# %%
# The pipeline
# ------------
# ``depth=16`` hidden layers; ``sparsity="random"`` is the paper's sparsification and
# ``solver="exact"`` a classical sparse direct solve (the reference the quantum
# solvers are compared with).
clf = make_pipeline(
    StandardScaler(),
    Normalizer(),
    QuantumNTKClassifier(depth=16, sparsity="random", solver="exact", random_state=0),
)
print(clf)

# %%
# Five-fold cross-validation
# --------------------------
# ``cross_validate`` clones and refits the whole pipeline on each fold: the scaler's
# statistics, the sparsity pattern and the solve only ever see the training folds.
cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
scores = cross_validate(clf, X, y, cv=cv, return_train_score=True)
for name in ("train_score", "test_score", "fit_time", "score_time"):
    values = scores[name]
    print(f"{name:>11}: {values.mean():.3f} +- {values.std():.3f}")

# %%
# Inspecting a fitted model
# -------------------------
# The fitted classifier exposes what the quantum algorithm cares about: the depth used,
# the largest number of nonzeros per row of the sparsified kernel (the sparsity
# :math:`s`) and its condition number :math:`\kappa`.
clf.fit(X, y)
ntk = clf[-1]
print(f"depth_ = {ntk.depth_}")
print(f"sparsity_ = {ntk.sparsity_} nonzeros per row (n = {ntk.n_train_})")
print(f"condition_number_ = {ntk.condition_number_:.3g}")

# %%
# The sparsified kernel is block diagonal by class (entries between classes are
# never computed) with a strong diagonal:
K = ntk.kernel_.toarray()
order = np.argsort(y, kind="stable")
fig, axes = plt.subplots(1, 2, figsize=(9, 4), layout="constrained")
axes[0].bar(np.arange(1, 6), scores["test_score"], color="C0")
axes[0].axhline(scores["test_score"].mean(), color="k", ls="--", lw=1, label="mean")
axes[0].set(
    xlabel="fold",
    ylabel="test accuracy",
    ylim=(0.8, 1.0),
    title="5-fold cross-validation",
)
axes[0].legend(loc="lower right")
im = axes[1].imshow(
    np.abs(K[np.ix_(order, order)]) > 0, cmap="Greys", interpolation="nearest"
)
axes[1].set(
    title=f"nonzeros of the sparsified kernel ({K.shape[0]}x{K.shape[0]})",
    xlabel="training point (sorted by class)",
    ylabel="training point",
)
plt.show()
