"""Myrtle CNN NTK on MNIST 0 vs 1 with the paper's threshold sparsification.

Needs the neural-tangents extra. The Myrtle kernel costs ``depth * (H W)^2`` per entry,
so each trial computes the kernel once (training Gram matrix of the largest training
set, and test-by-train) and fits every method and every nested training size on it
through ``architecture="precomputed"``.
"""

from __future__ import annotations

import importlib.util
import time

import numpy as np
from sklearn.utils import check_random_state

from ..datasets import load_binary_mnist
from ..estimators import QuantumNTKClassifier
from ._common import log
from ._fc import evaluate, qsvt_solver, trial_seed

#: The paper's digits for the CNN.
CNN_DIGITS = (0, 1)


def neural_tangents_missing():
    """A sentence saying why the CNN part cannot run, or None when it can."""
    if importlib.util.find_spec("neural_tangents") is None:
        return (
            "CNN experiment skipped: neural-tangents is not installed (pip install "
            "'qntk-sklearn[neural-tangents]', which needs jax < 0.6)."
        )
    return None


def nested_subsets(y, sizes, random_state):
    """Balanced, nested index sets: the subset for each size contains the smaller ones.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 1] * 8)
    >>> subsets = nested_subsets(y, (4, 8), 0)
    >>> set(subsets[4]) <= set(subsets[8]), np.bincount(y[subsets[8]]).tolist()
    (True, [4, 4])
    """
    rng = check_random_state(random_state)
    classes = np.unique(y)
    orders = [rng.permutation(np.flatnonzero(y == c)) for c in classes]
    return {
        n: np.sort(np.concatenate([o[: n // classes.size] for o in orders]))
        for n in sizes
    }


def gram_matrices(kernel, X, X_test):
    """Training Gram matrix (upper triangle evaluated once) and test-by-train kernel."""
    n = X.shape[0]
    rows, cols = np.triu_indices(n, k=1)
    K = np.zeros((n, n))
    K[rows, cols] = kernel.pairs(X, rows=rows, cols=cols)
    K = K + K.T
    K[np.arange(n), np.arange(n)] = kernel.diag(X)
    t_rows, t_cols = np.meshgrid(
        np.arange(X_test.shape[0]), np.arange(n), indexing="ij"
    )
    K_test = kernel.pairs(X_test, X, rows=t_rows.ravel(), cols=t_cols.ravel())
    return K, K_test.reshape(X_test.shape[0], n)


def cnn_trial(data, trial, cfg):
    """One trial: kernel of the largest training set, then every size and method."""
    from ..kernels import MyrtleNTK

    sizes = tuple(sorted(cfg.cnn_sizes))
    n_max = sizes[-1]
    seed = trial_seed(cfg.seed, n_max, trial)
    side = cfg.cnn_image_size
    X, y, X_test, y_test = load_binary_mnist(
        CNN_DIGITS,
        n_max,
        cfg.cnn_n_test,
        data=data,
        random_state=seed,
        image_size=side,
    )
    kernel = MyrtleNTK(depth=cfg.cnn_depth, image_shape=(side, side, 1))
    start = time.perf_counter()
    K, K_test = gram_matrices(kernel, X, X_test)
    kernel_time = time.perf_counter() - start
    entries = n_max * (n_max + 1) // 2 + X_test.shape[0] * n_max
    log(f"cnn trial={trial}: {entries} kernel entries in {kernel_time:.0f} s")
    runs = []
    for n, idx in nested_subsets(y, sizes, seed).items():
        K_n, K_star, y_n = K[np.ix_(idx, idx)], K_test[:, idx], y[idx]
        base = {
            "experiment": "cnn",
            "n": n,
            "trial": trial,
            "depth": cfg.cnn_depth,
            "image_size": side,
            "kernel_time_trial": kernel_time,
            "kernel_entries_trial": entries,
        }
        specs = [
            ("exact", dict(sparsity="none", solver="exact"), False),
            ("diagonal", dict(sparsity="diagonal"), True),
        ]
        specs += [
            (
                f"threshold#{p}",
                dict(sparsity="threshold", random_state=seed * 10 + p),
                True,
            )
            for p in range(cfg.patterns)
        ]
        solver = qsvt_solver(cfg.shots, seed)
        if solver is not None:
            specs.append(
                (
                    f"qsvt_{cfg.shots}shots",
                    dict(sparsity="threshold", solver=solver, random_state=seed * 10),
                    True,
                )
            )
        for name, params, measure in specs:
            method, _, pattern = name.partition("#")
            est = QuantumNTKClassifier(architecture="precomputed", **params)
            rows, _ = evaluate(
                est,
                K_n,
                y_n,
                K_star,
                y_test,
                base=dict(base, pattern=int(pattern or 0)),
                method=method,
                K_star=K_star,
                measure=measure,
                cost=method != "exact",
            )
            for r in rows:
                r["depth"] = cfg.cnn_depth
            runs += rows
    log(f"cnn trial={trial} done")
    return runs
