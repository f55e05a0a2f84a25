"""Myrtle CNN NTK on MNIST 0 vs 1 with the paper's threshold sparsification.

The Myrtle kernel (:class:`~qntk_sklearn.kernels.MyrtleNTK`, native) costs about
``depth/3 * (H W)^2`` covariance updates per entry, so each trial computes the kernel
once (training Gram matrix of the largest training set, and test-by-train) and fits
every method and every nested training size on it through
``architecture="precomputed"``.

As in the authors' code, the threshold sparsification's per-class thresholds and the
clipping scale ``k_thresh`` are computed once, on the first trial's n = 16 training
set (:func:`~qntk_sklearn.sparsify.paper_thresholds`), and reused for every n and
trial.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.utils import check_random_state

from ..datasets import load_binary_mnist
from ..estimators import QuantumNTKClassifier
from ..sparsify import paper_thresholds
from ._common import log
from ._fc import evaluate, qsvt_solver, trial_seed

#: The paper's digits for the CNN.
CNN_DIGITS = (0, 1)

#: Size of the training set the thresholds are computed on (the paper's first n).
THRESHOLD_N = 16


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
    return kernel.block(X, X), kernel.block(X_test, X)


def cnn_kernel(cfg):
    from ..kernels import MyrtleNTK

    side = cfg.cnn_image_size
    return MyrtleNTK(
        depth=cfg.cnn_depth, image_shape=(side, side, 1), n_jobs=max(1, cfg.jobs)
    )


def pool_size(cfg):
    """Training images drawn per trial: ``cfg.cnn_pool``, or the largest n.

    A run to a smaller n with the pool of a larger one draws the same images and
    nested subsets as the larger run (its trials restricted to the smaller n), and the
    kernel is computed only on the images those subsets use.
    """
    return max(cfg.cnn_pool or 0, max(cfg.cnn_sizes))


def _trial_data(data, trial, cfg):
    n_pool = pool_size(cfg)
    seed = trial_seed(cfg.seed, n_pool, trial)
    X, y, X_test, y_test = load_binary_mnist(
        CNN_DIGITS,
        n_pool,
        cfg.cnn_n_test,
        data=data,
        random_state=seed,
        image_size=cfg.cnn_image_size,
    )
    return seed, X, y, X_test, y_test


def threshold_rule(data, cfg):
    """The paper's thresholds and ``k_thresh``, from trial 0's n = 16 training set.

    Returns ``((thresholds, k_thresh), info)``; ``info`` records where they come from.
    """
    seed, X, y, _, _ = _trial_data(data, 0, cfg)
    n = min(THRESHOLD_N, pool_size(cfg))
    idx = nested_subsets(y, (n,), seed)[n]
    K = cnn_kernel(cfg).block(X[idx], X[idx])
    thresholds, k_thresh = paper_thresholds(K, y[idx], 90.0)
    info = {
        "subset": f"trial 0, n = {n} training set",
        "percentile": 90.0,
        "thresholds": {str(k): v for k, v in thresholds.items()},
        "k_thresh": k_thresh,
    }
    log(f"cnn thresholds {info['thresholds']}, k_thresh {k_thresh:.6g}")
    return (thresholds, k_thresh), info


def cnn_trial(data, trial, cfg, rule):
    """One trial: kernel of the largest training set, then every size and method."""
    sizes = tuple(sorted(cfg.cnn_sizes))
    n_max = sizes[-1]
    seed, X, y, X_test, y_test = _trial_data(data, trial, cfg)
    subsets = nested_subsets(y, sizes, seed)
    used = subsets[n_max]  # sorted; every smaller subset is inside it
    X, y = X[used], y[used]
    subsets = {n: np.searchsorted(used, idx) for n, idx in subsets.items()}
    kernel = cnn_kernel(cfg)
    start = time.perf_counter()
    K = kernel.block(X, X)
    train_time = time.perf_counter() - start
    start = time.perf_counter()
    K_test = kernel.block(X_test, X)
    test_time = time.perf_counter() - start
    kernel_time = train_time + test_time
    entries = n_max * (n_max + 1) // 2 + X_test.shape[0] * n_max
    log(
        f"cnn trial={trial}: {entries} kernel entries in {kernel_time:.0f} s "
        f"({1e3 * kernel_time / entries:.2f} ms per entry)"
    )
    k_thresh = rule[1]
    runs = []
    for n, idx in subsets.items():
        K_n, K_star, y_n = K[np.ix_(idx, idx)], K_test[:, idx], y[idx]
        base = {
            "experiment": "cnn",
            "n": n,
            "trial": trial,
            "depth": cfg.cnn_depth,
            "image_size": cfg.cnn_image_size,
            "kernel_time_trial": kernel_time,
            "kernel_train_time_trial": train_time,
            "kernel_test_time_trial": test_time,
            "kernel_entries_trial": entries,
        }
        threshold = dict(sparsity="threshold", thresholds=rule)
        specs = [
            ("exact", dict(sparsity="none", solver="exact"), False),
            ("diagonal", dict(sparsity="diagonal"), True),
        ]
        specs += [
            (f"threshold#{p}", dict(threshold, random_state=seed * 10 + p), True)
            for p in range(cfg.patterns)
        ]
        solver = qsvt_solver(cfg.shots, seed)
        if solver is not None:
            specs.append(
                (
                    f"qsvt_{cfg.shots}shots",
                    dict(threshold, solver=solver, random_state=seed * 10),
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
                k_thresh=k_thresh,
            )
            for r in rows:
                r["depth"] = cfg.cnn_depth
            runs += rows
    log(f"cnn trial={trial} done")
    return runs
