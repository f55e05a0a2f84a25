"""
======================================================
Tuning depth and sparsity with a grid search
======================================================

``depth`` and ``sparsity`` set both the accuracy of a quantum NTK classifier and the
condition number of the matrix its quantum linear solver inverts. They are ordinary
parameters, so :class:`~sklearn.model_selection.GridSearchCV` tunes them like any
other; this example searches a small grid on two digit classes (8 against 9, the
pair the paper uses on MNIST) and shows the condition number of each choice next to
its score.
"""

# %%
# Data and pipeline
# -----------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import Normalizer, StandardScaler

from qntk_sklearn import QuantumNTKClassifier

X, y = load_digits(return_X_y=True)
mask = (y == 8) | (y == 9)
X_train, X_test, y_train, y_test = train_test_split(
    X[mask], y[mask], test_size=0.4, stratify=y[mask], random_state=0
)

pipe = Pipeline(
    [
        ("scale", StandardScaler()),
        ("norm", Normalizer()),
        ("ntk", QuantumNTKClassifier(solver="exact", random_state=0)),
    ]
)

# %%
# The grid
# --------
# Pipeline parameters are addressed as ``<step>__<parameter>``.
param_grid = {
    "ntk__depth": [6, 8, 16, 32, 64],
    "ntk__sparsity": ["none", "random", "diagonal"],
}
search = GridSearchCV(
    pipe, param_grid, cv=StratifiedKFold(3, shuffle=True, random_state=0)
)
search.fit(X_train, y_train)
print("best parameters:", search.best_params_)
print(f"best cross-validated accuracy: {search.best_score_:.3f}")
print(
    f"held-out accuracy of the refitted best model: {search.score(X_test, y_test):.3f}"
)

# %%
# Scores and condition numbers
# ----------------------------
# ``cv_results_`` holds the scores. The condition number is a property of each fitted
# model, so we refit every grid point once on the training set to read
# ``condition_number_``.
depths = param_grid["ntk__depth"]
sparsities = param_grid["ntk__sparsity"]
params = search.cv_results_["params"]
score = np.empty((len(depths), len(sparsities)))
kappa = np.empty_like(score)
for p, mean in zip(params, search.cv_results_["mean_test_score"], strict=True):
    i, j = depths.index(p["ntk__depth"]), sparsities.index(p["ntk__sparsity"])
    score[i, j] = mean
    model = clone(pipe).set_params(**p).fit(X_train, y_train)
    kappa[i, j] = model[-1].condition_number_

print(f"{'depth':>5}  " + "  ".join(f"{s:>16}" for s in sparsities))
for i, depth in enumerate(depths):
    cells = (
        f"{score[i, j]:.3f} (k={kappa[i, j]:7.3g})" for j in range(len(sparsities))
    )
    print(f"{depth:>5}  " + "  ".join(f"{c:>16}" for c in cells))

# %%
# Deeper networks give better conditioned systems; shallow ones generalise better.
# The sparsified kernel (``"random"``) tracks the exact one once the network is deep
# enough that the entries it drops are small.
fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
for j, (sparsity, marker) in enumerate(zip(sparsities, "osd", strict=True)):
    axes[0].plot(depths, score[:, j], marker=marker, label=sparsity)
    axes[1].plot(depths, kappa[:, j], marker=marker, label=sparsity)
axes[0].set(xscale="log", xlabel="depth", ylabel="mean CV accuracy", title="accuracy")
axes[1].set(
    xscale="log",
    yscale="log",
    xlabel="depth",
    ylabel=r"condition number $\kappa$",
    title="conditioning",
)
for ax in axes:
    ax.set_xticks(depths, labels=depths)
    ax.minorticks_off()
    ax.legend(title="sparsity")
plt.show()
