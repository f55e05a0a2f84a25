"""How accurate and how fast is QuantumNTKClassifier next to the classifiers a
scikit-learn user would try first?

QuantumNTKClassifier (in a Pipeline after Normalizer; depth "auto", the paper's rule,
and a depth tuned by GridSearchCV; sparsity "random", the paper's, and "none", the exact
NTK) against an RBF SVC (C and gamma tuned by GridSearchCV), an SVC whose kernel is the
same infinite-width NTK (``kernel=FullyConnectedNTK(depth=...)``, C tuned) and an
MLPClassifier, on (a) scikit-learn's digits (10 classes, 70/30 stratified split) and
(b) MNIST 8 vs 9 (2000 balanced training images, all 1983 test-set 8s and 9s). Inputs
are preprocessed as in the paper (one global mean and std from the training set, then
unit L2 norm per sample; every model sees the same inputs, each in a Pipeline with
Normalizer). Hyperparameters are tuned once (3-fold CV on the training set, time
recorded); the tuned model is then fitted and used to predict 3 times, and fit and
predict times are medians of those repeats. The machine may be shared: each record
keeps the 1-minute load average at its start. The NTK depth grid is
{2, 4, 8, 16, 32, 64}; the NTK SVC uses the depth tuned for sparsity="none".

Last measured 2026-11-24 on a 2-core Intel Xeon VM (24 GiB, no GPU), quiet machine,
one BLAS thread, full run (102 s); all numbers in
``benchmarks/results/bench_accuracy_baselines.json`` and ``benchmarks/README.md``.
Test accuracy (fit s / predict s, medians of 3)::

    model                    digits (1257/540)          MNIST 8 vs 9 (2000/1983)
    QNTK random, auto        0.9407 (0.05 / 0.45) d114  0.9531 (0.34 / 2.37) d98
    QNTK none, auto          0.9407 (1.10 / 0.45) d114  0.9531 (2.64 / 2.35) d98
    QNTK random, tuned       0.9444 (0.02 / 0.17) d32   0.9561 (0.14 / 0.54) d16
    QNTK none, tuned         0.9926 (0.24 / 0.04) d4    0.9879 (0.95 / 0.33) d8
    SVC RBF, tuned           0.9926 (0.02 / 0.02)       0.9884 (0.17 / 0.16)
    SVC NTK kernel, tuned C  0.9870 (0.07 / 0.03) d4    0.9859 (0.25 / 0.35) d8
    MLPClassifier (256,)     0.9815 (1.87 / 0.00)       0.9808 (5.49 / 0.02)

An earlier run on a machine shared with other jobs (load 5-13), before the kernel
speed-ups, gave the same accuracies with times 2-40x larger. Fits that fail are
recorded, not fatal, and the process's address space is capped (``--max-memory-gb``,
default 6) so a runaway allocation raises MemoryError rather than waking the OOM
killer.

Run ``python benchmarks/bench_accuracy_baselines.py`` (about 2 minutes) or
``--quick`` (about a minute: smaller MNIST subsets, smaller grids, one repeat).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import Normalizer
from sklearn.svm import SVC

from qntk_sklearn import QuantumNTKClassifier
from qntk_sklearn.kernels import FullyConnectedNTK

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MNIST = REPO.parent / "shared" / "mnist.npz"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "bench_accuracy_baselines.json"
SEED = 0


# --- data --------------------------------------------------------------------------
def _global_standardise(X, X_test):
    """The paper's first step: one mean and one std over all training pixels."""
    mean, std = X.mean(), X.std()
    return (X - mean) / std, (X_test - mean) / std


def load_digits_split(seed=SEED):
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X.astype(np.float64), y, test_size=0.3, stratify=y, random_state=seed
    )
    X_tr, X_te = _global_standardise(X_tr, X_te)
    return X_tr, y_tr, X_te, y_te


def load_mnist_pair(path, n_train, n_test, seed=SEED, digits=(8, 9)):
    """Balanced subsets (0 or too many: all) of MNIST ``digits[0]`` vs ``digits[1]``."""
    data = np.load(path)
    rng = np.random.default_rng(seed)

    def select(x, y, n):
        idx = [np.flatnonzero(y == d) for d in digits]
        if n and n < sum(i.size for i in idx):
            half = n // 2
            idx = [
                rng.choice(i, size=min(k, i.size), replace=False)
                for i, k in zip(idx, (half, n - half), strict=True)
            ]
        keep = np.sort(np.concatenate(idx))
        return x[keep].reshape(keep.size, -1).astype(np.float64), y[keep]

    X_tr, y_tr = select(data["x_train"], data["y_train"], n_train)
    X_te, y_te = select(data["x_test"], data["y_test"], n_test)
    X_tr, X_te = _global_standardise(X_tr, X_te)
    return X_tr, y_tr, X_te, y_te


# --- models ------------------------------------------------------------------------
def _pipe(model):
    return Pipeline([("normalize", Normalizer()), ("model", model)])


def candidates(quick):
    """(name, estimator, grid or None) in the order they are run."""
    depths = [2, 8, 32] if quick else [2, 4, 8, 16, 32, 64]
    return [
        (
            "qntk_random_auto",
            _pipe(
                QuantumNTKClassifier(depth="auto", sparsity="random", random_state=SEED)
            ),
            None,
        ),
        (
            "qntk_none_auto",
            _pipe(
                QuantumNTKClassifier(depth="auto", sparsity="none", random_state=SEED)
            ),
            None,
        ),
        (
            "qntk_random_tuned",
            _pipe(QuantumNTKClassifier(sparsity="random", random_state=SEED)),
            {"model__depth": depths},
        ),
        (
            "qntk_none_tuned",
            _pipe(QuantumNTKClassifier(sparsity="none", random_state=SEED)),
            {"model__depth": depths},
        ),
        (
            "svc_rbf_tuned",
            _pipe(SVC(kernel="rbf")),
            {
                "model__C": [1.0, 10.0, 100.0],
                "model__gamma": ["scale", 0.5, 1.0, 2.0, 4.0],
            },
        ),
        (
            "svc_ntk_tuned",  # kernel depth filled in from qntk_none_tuned
            _pipe(SVC(kernel=FullyConnectedNTK(depth=8))),
            {"model__C": [0.1, 1.0, 10.0, 100.0]},
        ),
        (
            "mlp",
            _pipe(
                MLPClassifier(
                    hidden_layer_sizes=(256,), max_iter=2000, random_state=SEED
                )
            ),
            None,
        ),
    ]


def _extras(estimator):
    model = estimator.named_steps["model"]
    out = {}
    if isinstance(model, QuantumNTKClassifier):
        out.update(
            depth_=int(model.depth_),
            condition_number_=float(model.condition_number_),
            sparsity_=int(model.sparsity_),
            solver=type(model.solver_).__name__,
            solver_method=getattr(model.solver_, "method_", None),
        )
    elif isinstance(model, SVC):
        out.update(n_support=int(model.support_.size))
    elif isinstance(model, MLPClassifier):
        out.update(
            n_iter_=int(model.n_iter_),
            converged=bool(model.n_iter_ < model.max_iter),
            final_loss=float(model.loss_),
        )
    return out


def evaluate(name, estimator, grid, X_tr, y_tr, X_te, y_te, repeats, tuned):
    record = {"model": name, "loadavg_1min_start": os.getloadavg()[0]}
    if grid is not None:
        if name == "svc_ntk_tuned" and "qntk_none_tuned" in tuned:
            depth = tuned["qntk_none_tuned"]["model__depth"]
            estimator = clone(estimator).set_params(
                model__kernel=FullyConnectedNTK(depth=depth)
            )
            record["kernel_depth"] = depth
        cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=SEED)
        search = GridSearchCV(estimator, grid, cv=cv, n_jobs=1, refit=False)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            search.fit(X_tr, y_tr)
        record["tuning_s"] = time.perf_counter() - t0
        record["best_params"] = {k: v for k, v in search.best_params_.items()}
        record["cv_accuracy"] = float(search.best_score_)
        record["cv_results"] = {
            "params": [
                {
                    k: (v if not hasattr(v, "get_params") else repr(v))
                    for k, v in p.items()
                }
                for p in search.cv_results_["params"]
            ],
            "mean_test_score": search.cv_results_["mean_test_score"].tolist(),
        }
        tuned[name] = search.best_params_
        estimator = clone(estimator).set_params(**search.best_params_)
    fit_s, fit_cpu_s, predict_s, accs = [], [], [], []
    for _ in range(repeats):
        est = clone(estimator)
        c0, t0 = time.process_time(), time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                est.fit(X_tr, y_tr)
        except MemoryError as exc:  # see --max-memory-gb
            record["error"] = f"MemoryError in fit: {exc}"
            return record
        fit_s.append(time.perf_counter() - t0)
        fit_cpu_s.append(time.process_time() - c0)
        t0 = time.perf_counter()
        y_pred = est.predict(X_te)
        predict_s.append(time.perf_counter() - t0)
        accs.append(float(np.mean(y_pred == y_te)))
    record.update(
        accuracy=statistics.median(accs),
        accuracy_all=accs,
        fit_s_median=statistics.median(fit_s),
        fit_cpu_s_median=statistics.median(fit_cpu_s),
        predict_s_median=statistics.median(predict_s),
        fit_s_all=fit_s,
        predict_s_all=predict_s,
        **_extras(est),
    )
    return record


def run_dataset(label, data, repeats, quick):
    X_tr, y_tr, X_te, y_te = data
    print(
        f"== {label}: {X_tr.shape[0]} train, {X_te.shape[0]} test, "
        f"{X_tr.shape[1]} features, {np.unique(y_tr).size} classes",
        flush=True,
    )
    tuned, records = {}, []
    for name, est, grid in candidates(quick):
        rec = evaluate(name, est, grid, X_tr, y_tr, X_te, y_te, repeats, tuned)
        records.append(rec)
        if "error" in rec:
            print(f"  {name:18s} FAILED: {rec['error'][:200]}", flush=True)
            continue
        print(
            f"  {name:18s} acc {rec['accuracy']:.4f}  fit {rec['fit_s_median']:7.2f} s"
            f"  predict {rec['predict_s_median']:6.2f} s"
            f"  {rec.get('best_params', '')} "
            f"{ {k: rec[k] for k in ('depth_', 'condition_number_') if k in rec} }",
            flush=True,
        )
    return {
        "dataset": label,
        "n_train": int(X_tr.shape[0]),
        "n_test": int(X_te.shape[0]),
        "n_features": int(X_tr.shape[1]),
        "n_classes": int(np.unique(y_tr).size),
        "records": records,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--mnist", default=str(DEFAULT_MNIST))
    parser.add_argument("--out", default=None)
    parser.add_argument("--n-train", type=int, default=None)
    parser.add_argument("--n-test", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument(
        "--max-memory-gb",
        type=float,
        default=6.0,
        help="address-space limit of this process (0: none), so that "
        "a runaway allocation fails with MemoryError instead of "
        "invoking the OOM killer on a shared machine",
    )
    args = parser.parse_args(argv)
    if args.max_memory_gb:
        import resource

        limit = int(args.max_memory_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    n_train = args.n_train or (300 if args.quick else 2000)
    n_test = args.n_test or (300 if args.quick else 2000)
    repeats = args.repeats or (1 if args.quick else 3)
    out_path = (
        Path(args.out)
        if args.out
        else (
            DEFAULT_OUT.with_name("bench_accuracy_baselines_quick.json")
            if args.quick
            else DEFAULT_OUT
        )
    )

    t_start = time.perf_counter()
    datasets = [
        run_dataset("digits", load_digits_split(), repeats, args.quick),
        run_dataset(
            "mnist_8_vs_9",
            load_mnist_pair(args.mnist, n_train, n_test),
            repeats,
            args.quick,
        ),
    ]
    result = {
        "question": "Accuracy and fit/predict time of QuantumNTKClassifier vs RBF SVC, "
        "NTK SVC and MLPClassifier",
        "date": _dt.date.today().isoformat(),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
        },
        "versions": _versions(),
        "quick": args.quick,
        "settings": {
            "seed": SEED,
            "repeats": repeats,
            "mnist_n_train": n_train,
            "mnist_n_test_requested": n_test,
            "cv_folds": 3,
        },
        "wall_s": time.perf_counter() - t_start,
        "datasets": datasets,
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=2, default=_jsonable) + "\n")
    print(f"wrote {out_path} ({result['wall_s']:.0f} s)")


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    return repr(value)


def _versions():
    import subprocess
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("qntk-sklearn", "numpy", "scipy", "scikit-learn", "jax"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    try:  # which package code was measured (the working tree may have edits)
        git = ["git", "-C", str(REPO)]
        out["git_head"] = subprocess.run(
            git + ["rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        out["git_dirty_package_files"] = subprocess.run(
            git + ["status", "--porcelain", "qntk_sklearn"],
            capture_output=True,
            text=True,
        ).stdout.splitlines()
    except OSError:
        pass
    return out


if __name__ == "__main__":
    main()
