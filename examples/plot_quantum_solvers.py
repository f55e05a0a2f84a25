"""
===================================================
Emulated and circuit quantum solvers, with shots
===================================================

Two solvers run the quantum algorithm of the paper:

* ``solver="qsvt"`` (:class:`~qntk_sklearn.solvers.QSVTSolver`) *emulates* it: the
  quantum singular value transformation's output is computed classically by a
  Chebyshev recursion, and the Hadamard-test readout is sampled from its binomial
  distribution with ``shots`` measurements. It works at any size.
* ``solver="pennylane"`` (:class:`~qntk_sklearn.solvers.PennyLaneSolver`) builds the
  same algorithm as gate-level PennyLane circuits and simulates them. Simulation is
  exponential in the number of qubits, so it is for a handful of training points.

This example fits both on 16 training points and compares their decision values with
the exact solve, then shows how the number of shots sets the accuracy.
"""

# %%
# Sixteen training points
# -----------------------
# Digits 8 and 9, eight of each: 16 points need :math:`\log_2 16 = 4` system qubits.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.preprocessing import Normalizer, StandardScaler

from qntk_sklearn import QuantumNTKClassifier
from qntk_sklearn.solvers import PennyLaneSolver, QSVTSolver

X, y = load_digits(return_X_y=True)
mask = (y == 8) | (y == 9)
X, y = X[mask], y[mask]
X = Normalizer().fit_transform(StandardScaler().fit_transform(X))

rng = np.random.RandomState(0)
train = np.concatenate(
    [rng.choice(np.flatnonzero(y == digit), 8, replace=False) for digit in (8, 9)]
)
test = rng.permutation(np.setdiff1d(np.arange(len(y)), train))[:150]
X_train, y_train, X_test, y_test = X[train], y[train], X[test], y[test]

# %%
# Three solvers on the same sparsified kernel
# -------------------------------------------
# The same ``random_state`` gives all three the same sparsity pattern. A 16-layer
# network keeps the condition number small, so the QSVT polynomial has a low degree
# (and the PennyLane circuits stay short).
common = dict(depth=16, sparsity="random", random_state=0)
exact = QuantumNTKClassifier(solver="exact", **common).fit(X_train, y_train)
qsvt = QuantumNTKClassifier(solver="qsvt", **common).fit(X_train, y_train)
circuit = QuantumNTKClassifier(solver="pennylane", **common).fit(X_train, y_train)

d_exact = exact.decision_function(X_test)
d_qsvt = qsvt.decision_function(X_test)
d_circuit = circuit.decision_function(X_test)
for name, model, d in [
    ("exact", exact, d_exact),
    ("qsvt", qsvt, d_qsvt),
    ("pennylane", circuit, d_circuit),
]:
    print(
        f"{name:>9}: accuracy {model.score(X_test, y_test):.3f}, "
        f"max |d - d_exact| = {np.abs(d - d_exact).max():.2e}"
    )

# %%
# Without shots (``shots=None``, the default) both quantum solvers return the exact
# overlap, and differ from the classical solve only by the polynomial approximation
# of :math:`1/x` (``epsilon``, 1e-3 by default for both; the circuit's phase angles
# are computed from the polynomial's Chebyshev coefficients, accurate to about
# 1e-14). The fitted solvers expose the polynomial and the circuit:
solver = circuit.solver_
print(
    f"kappa bound {solver.kappa_:.3g}, polynomial degree {solver.degree_}, "
    f"{solver.n_qubits_} qubits ({solver.n_system_qubits_} system + 3 ancillas), "
    f"post-selection success {solver.success_probability_[0]:.3f}"
)

# %%
# Finite shots
# ------------
# A decision value is the sign of an overlap :math:`o` estimated from a Hadamard test.
# With ``shots`` measurements the estimate has standard deviation
# :math:`\sqrt{(1 - o^2) / \text{shots}}`. Solver objects carry the parameters; the
# estimator clones them, so ``solver__shots`` is a tunable parameter.
shots_grid = [10, 30, 100, 300, 1000, 3000]
seeds = range(5)
acc_qsvt = np.array(
    [
        [
            QuantumNTKClassifier(
                solver=QSVTSolver(shots=shots, random_state=seed), **common
            )
            .fit(X_train, y_train)
            .score(X_test, y_test)
            for seed in seeds
        ]
        for shots in shots_grid
    ]
)
circuit_shots = 100
noisy_qsvt = QuantumNTKClassifier(
    solver=QSVTSolver(shots=circuit_shots, random_state=1), **common
).fit(X_train, y_train)
noisy_circuit = QuantumNTKClassifier(
    solver=PennyLaneSolver(shots=circuit_shots, random_state=2), **common
).fit(X_train, y_train)
print(
    f"shots={circuit_shots}: qsvt accuracy "
    f"{noisy_qsvt.score(X_test, y_test):.3f}, pennylane accuracy "
    f"{noisy_circuit.score(X_test, y_test):.3f}"
)

# %%
# Left: without shots, both quantum solvers reproduce the exact decision values up to
# the polynomial's approximation error, far below anything a measurement resolves.
# Middle: with 100 shots both scatter around the exact values by the same binomial
# noise (different seeds here; with equal seeds they draw the same outcomes). Right:
# accuracy against shots for the emulator, five seeds each; by a few hundred shots it
# matches the exact solve.
fig, axes = plt.subplots(1, 3, figsize=(14, 4.3), layout="constrained")
ax = axes[0]
ax.scatter(d_exact, np.abs(d_qsvt - d_exact), s=12, label="qsvt")
ax.scatter(d_exact, np.abs(d_circuit - d_exact), s=20, marker="x", label="pennylane")
ax.set(
    yscale="log",
    xlabel="decision value, exact solve",
    ylabel="|error| of the quantum solver",
    title="no shots: polynomial error only",
)
ax.legend()

ax = axes[1]
lim = np.abs(d_exact).max() * 1.4
ax.plot([-lim, lim], [-lim, lim], color="gray", lw=1)
ax.scatter(d_exact, noisy_qsvt.decision_function(X_test), s=12, label="qsvt")
ax.scatter(
    d_exact,
    noisy_circuit.decision_function(X_test),
    s=20,
    marker="x",
    label="pennylane",
)
ax.set(
    xlabel="decision value, exact solve",
    ylabel="decision value, quantum solver",
    title=f"{circuit_shots} shots per decision value",
)
ax.legend()

ax = axes[2]
ax.axhline(exact.score(X_test, y_test), color="k", ls="--", lw=1, label="exact solve")
ax.errorbar(
    shots_grid,
    acc_qsvt.mean(axis=1),
    yerr=acc_qsvt.std(axis=1),
    fmt="o-",
    capsize=3,
    label="qsvt, mean +- std over 5 seeds",
)
ax.set(
    xscale="log",
    xlabel="shots per decision value",
    ylabel="test accuracy",
    title="accuracy against measurements",
)
ax.legend(loc="lower right")
plt.show()

# %%
# What a real device would add
# ----------------------------
# The emulator models the algorithm's own errors (polynomial approximation and shot
# noise), nothing else: no gate errors or decoherence. Its cost on a quantum computer
# is in ``quantum_resources_``:
r = noisy_qsvt.quantum_resources_
print(
    f"{r.qubits} qubits, {r.qsvt_queries} queries per QSVT circuit, "
    f"{r.qsvt_queries_per_state:.0f} per post-selected state, "
    f"about {r.readout_measurements:.0f} measurements to read out a sign"
)
