"""
=================================================
Comparison with an SVM and a finite-width network
=================================================

A quantum NTK classifier is the infinite-width limit of a trained fully-connected
network. How does it compare with the usual classical models on the same data? This
example fits, on the ten digit classes:

* :class:`~qntk_sklearn.QuantumNTKClassifier` with the exact kernel and with the
  paper's sparsified kernel,
* an RBF :class:`~sklearn.svm.SVC`,
* a finite, trained :class:`~sklearn.neural_network.MLPClassifier`,

and reports test accuracy and fit time. The NTK models have no hyperparameter
besides the depth; the SVM and the network use scikit-learn's defaults.
"""

# %%
# Data
# ----
from time import perf_counter

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer, StandardScaler
from sklearn.svm import SVC

from qntk_sklearn import QuantumNTKClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=800, test_size=500, stratify=y, random_state=0
)

# %%
# The models
# ----------
# Every model sees the same preprocessing: standardised features, unit-norm samples.
models = {
    "NTK, exact": QuantumNTKClassifier(depth=16, sparsity="none", random_state=0),
    "NTK, sparsified": QuantumNTKClassifier(
        depth=16, sparsity="random", random_state=0
    ),
    "NTK, diagonal": QuantumNTKClassifier(depth=16, sparsity="diagonal"),
    "SVC (RBF)": SVC(),
    "MLP (100 hidden)": MLPClassifier(max_iter=500, random_state=0),
}
accuracy, fit_time = {}, {}
for name, model in models.items():
    pipe = make_pipeline(StandardScaler(), Normalizer(), model)
    start = perf_counter()
    pipe.fit(X_train, y_train)
    fit_time[name] = perf_counter() - start
    accuracy[name] = pipe.score(X_test, y_test)
    print(f"{name:>17}: accuracy {accuracy[name]:.3f}, fit {fit_time[name]:.2f} s")

# %%
# The exact NTK of a 16-layer network comes close to the SVM and the finite network:
# all three are, or behave like, kernel machines with a smooth kernel. The sparsified
# kernel gives up some accuracy in exchange for a matrix a quantum linear solver could
# invert cheaply (sparsity and condition number below), and the diagonal NTK, which
# needs no solve at all, a little more. A shallower network would be more accurate
# and worse conditioned; see the depth sweep linked at the end. The NTK fit times
# include the spectrum and the quantum resource estimate computed at every fit.
sparse_model = models["NTK, sparsified"]
print(
    f"sparsified kernel: s = {sparse_model.sparsity_}, "
    f"kappa = {sparse_model.condition_number_:.3g}"
)

names = list(models)
fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
colors = ["C0", "C0", "C0", "C1", "C2"]
axes[0].barh(names, [accuracy[n] for n in names], color=colors)
axes[0].set(xlim=(0.8, 1.0), xlabel="test accuracy")
axes[1].barh(names, [fit_time[n] for n in names], color=colors)
axes[1].set(xlabel="fit time (s)")
axes[1].set_yticklabels([])
for ax in axes:
    ax.invert_yaxis()
fig.suptitle(f"digits, {len(y_train)} training and {len(y_test)} test samples")
plt.show()

# %%
# Accuracy is not the point of the quantum algorithm: its promise is that the
# sparsified system is solved in time polylogarithmic in ``n`` on a quantum computer.
# See :ref:`sphx_glr_auto_examples_plot_accuracy_vs_quantum_cost.py` for what depth
# does to that cost, and :ref:`simulation` for why the classical simulation used
# here is not fast.
