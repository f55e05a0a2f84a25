"""Shared machinery of the experiments: configurations, scoring, summaries, CSVs."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import platform
import sys
import time
import warnings
from contextlib import contextmanager

import numpy as np

#: Columns every summary CSV starts with (the issue's required columns first).
SUMMARY_COLUMNS = [
    "n",
    "method",
    "accuracy_mean",
    "accuracy_sem",
    "kappa_mean",
    "postselection_median",
    "readout_median",
]

#: Extra summary columns, in this order, when present.
EXTRA_COLUMNS = [
    "decision_rule",
    "postselection_rowmax_median",
    "postselection_kthresh_median",
    "depth",
    "n_trials",
    "n_runs",
    "accuracy_std",
    "kappa_sem",
    "kappa_median",
    "sparsity_mean",
    "nnz_mean",
    "cg_iterations_mean",
    "classical_flops_mean",
    "queries_median",
    "sign_agreement_mean",
    "decision_rel_error_median",
    "classical_queries_median",
    "qr_gates_toffoli_per_prediction_median",
    "qr_gates_toffoli_qsvt_median",
    "qr_gates_logical_qubits_median",
    "fit_time_mean",
    "predict_time_mean",
    "n_warnings",
]

#: Experiment names, in the order ``all`` runs them.
EXPERIMENTS = ("fc", "baselines", "depth", "cnn")


@dataclasses.dataclass
class Config:
    """Sizes and repetitions of one run of the experiments (see :data:`MODES`)."""

    mode: str
    fc_sizes: tuple
    exact_max: int
    trials: int
    patterns: int
    n_test: int
    shots: int
    baseline_sizes: tuple
    mlp_max_iter: int
    depth_n: int
    depths: tuple
    depth_trials: int
    cnn_sizes: tuple
    cnn_depth: int
    cnn_image_size: int
    cnn_trials: int
    cnn_n_test: int
    seed: int = 0
    jobs: int = 1
    append: bool = False
    first_trial: int = 0


#: The three modes of the command line. "full" is what docs/results/ holds.
MODES = {
    "smoke": Config(
        mode="smoke",
        fc_sizes=(16, 32),
        exact_max=32,
        trials=2,
        patterns=2,
        n_test=32,
        shots=100,
        baseline_sizes=(16, 32),
        mlp_max_iter=50,
        depth_n=16,
        depths=(2, 8),
        depth_trials=1,
        cnn_sizes=(4, 8),
        cnn_depth=3,
        cnn_image_size=16,
        cnn_trials=1,
        cnn_n_test=4,
    ),
    "quick": Config(
        mode="quick",
        fc_sizes=(16, 32, 64, 128, 256, 512),
        exact_max=512,
        trials=4,
        patterns=3,
        n_test=256,
        shots=1000,
        baseline_sizes=(16, 64, 256, 512),
        mlp_max_iter=300,
        depth_n=256,
        depths=(8, 16, 32, 64, 128),
        depth_trials=2,
        cnn_sizes=(8, 16),
        cnn_depth=12,
        cnn_image_size=16,
        cnn_trials=1,
        cnn_n_test=16,
    ),
    "full": Config(
        mode="full",
        fc_sizes=(16, 32, 64, 128, 256, 512, 1024, 2048, 4096),
        exact_max=2048,
        trials=4,
        patterns=3,
        n_test=256,
        shots=1000,
        baseline_sizes=(16, 32, 64, 128, 256, 512, 1024),
        mlp_max_iter=500,
        depth_n=512,
        depths=(8, 16, 32, 64, 128),
        depth_trials=4,
        cnn_sizes=(8, 16, 32),
        cnn_depth=96,
        cnn_image_size=16,
        cnn_trials=3,
        cnn_n_test=16,
    ),
}


def log(message):
    """Print a progress line with the wall-clock time."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@contextmanager
def recorded_warnings(sink):
    """Record every warning raised inside the block into the list ``sink``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    sink.extend(f"{w.category.__name__}: {w.message}" for w in caught)


def accuracy(y_true, y_pred):
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def sign_rule(est, scores):
    """The estimator's own (inductive) rule: the second class where the score is > 0."""
    return est.classes_[(np.asarray(scores) > 0).astype(int)]


def median_rule(est, scores):
    """The paper's reference-code rule: threshold at the median of the test scores.

    It uses a statistic of the predicted batch, so it is reported separately and never
    used by an estimator.
    """
    scores = np.asarray(scores)
    return est.classes_[(scores > np.median(scores)).astype(int)]


def measurement_counts(K_star, dual_coef, k_thresh):
    """Per-query measurement counts of the paper's state preparation and readout.

    The amplitudes of ``|k*>`` are ``k_i = clip(K_star_i / k_thresh, -1, 1)``;
    preparing the state by post-selection costs about ``n / P`` attempts with
    ``P = sum_i k_i^2`` after a rescaling of ``k``, done three ways:

    * ``postselection`` (the paper's): the authors' notebook divides the whole
      clipped query-by-train matrix by its largest ``|k_i|`` over every query of the
      batch before computing ``P`` per row. It needs the test batch, so it is an
      experiments/reporting quantity, not something an estimator can compute.
    * ``postselection_rowmax`` (inductive): each clipped row divided by its own
      largest ``|k_i|``; needs no batch.
    * ``postselection_kthresh``: ``k_thresh`` alone, no rescaling.

    Parameters
    ----------
    K_star : ndarray of shape (n_queries, n_train)
        Exact kernel between query and training points.
    dual_coef : ndarray of shape (n_train,)
        The solution ``K_tilde^-1 y`` the quantum state is proportional to.
    k_thresh : float
        Clipping scale of the kernel entries.

    Returns
    -------
    counts : dict of ndarray of shape (n_queries,)
        ``postselection``, ``postselection_rowmax``, ``postselection_kthresh`` (see
        above) and ``readout``: ``1 / o^2 - 1`` with ``o`` the overlap of the
        normalised clipped ``k*`` and ``dual_coef`` (no rescaling changes it).

    Examples
    --------
    >>> import numpy as np
    >>> K_star = np.array([[0.5, 0.1], [0.25, 0.0]])
    >>> c = measurement_counts(K_star, np.array([1.0, 1.0]), k_thresh=1.0)
    >>> c["postselection_kthresh"].round(3), c["postselection"].round(3)
    (array([ 7.692, 32.   ]), array([1.923, 8.   ]))
    >>> c["postselection_rowmax"].round(3)
    array([1.923, 2.   ])
    """
    from ..solvers import post_selection_counts

    K_star = np.asarray(K_star, dtype=np.float64)
    a = np.asarray(dual_coef, dtype=np.float64).reshape(-1)
    k = np.clip(K_star / k_thresh, -1.0, 1.0)
    P = np.einsum("ij,ij->i", k, k)
    post = post_selection_counts(K_star, k_thresh)
    with np.errstate(divide="ignore", invalid="ignore"):
        overlap = (k @ a) / (np.sqrt(P) * np.linalg.norm(a))
        return {
            "postselection": post["paper"],
            "postselection_rowmax": post["rowmax"],
            "postselection_kthresh": post["kthresh"],
            "readout": 1.0 / overlap**2 - 1.0,
        }


def _numeric(items, prefix):
    out = {}
    for key, value in items:
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float, np.integer, np.floating)):
            out[f"{prefix}{key}"] = float(value)
    return out


def resource_fields(est):
    """Numeric fields of ``est.quantum_resources_`` (empty dict if absent), and of
    its gate-level estimate (``qr_gates_*``) when it has one."""
    qr = getattr(est, "quantum_resources_", None)
    if qr is None:
        return {}
    if dataclasses.is_dataclass(qr):
        items = dataclasses.asdict(qr).items()
    elif isinstance(qr, dict):
        items = qr.items()
    else:
        items = vars(qr).items()
    out = _numeric(items, "qr_")
    gates = getattr(qr, "gates", None)
    if dataclasses.is_dataclass(gates):
        out.update(_numeric(dataclasses.asdict(gates).items(), "qr_gates_"))
    return out


def query_count(fields):
    """Best available estimate of the QLSA's query count from resource fields."""
    for key in ("qr_qsvt_queries_per_state", "qr_qsvt_queries", "qr_degree"):
        if key in fields and np.isfinite(fields[key]):
            return fields[key]
    return math.nan


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def _nanmean(values):
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else math.nan


def _nanmedian(values):
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else math.nan


def _sem(values):
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size < 2:
        return math.nan
    return float(values.std(ddof=1) / math.sqrt(values.size))


def summarize(runs, keys=("n", "method")):
    """One row per ``keys`` from per-run rows.

    Accuracy: the mean over runs, and the standard error over trials (runs of one trial,
    e.g. several sparsity patterns, are averaged first, so the error reflects the data
    sampling). kappa: mean, standard error and median over runs (``inf`` when a matrix
    is singular is kept out of the mean). Measurement counts: the median over runs of
    each run's median over test points. Timing and classical costs: means.
    """
    groups = {}
    for row in runs:
        groups.setdefault(tuple(row[k] for k in keys), []).append(row)
    out = []
    for key, rows in groups.items():
        summary = dict(zip(keys, key, strict=True))
        by_trial = {}
        for r in rows:
            by_trial.setdefault(r.get("trial", 0), []).append(r["accuracy"])
        trial_means = [np.mean(v) for v in by_trial.values()]
        acc = [r["accuracy"] for r in rows]
        kappa = [r.get("kappa", math.nan) for r in rows]
        summary.update(
            accuracy_mean=float(np.mean(acc)),
            accuracy_sem=_sem(trial_means),
            kappa_mean=_nanmean(kappa),
            postselection_median=_nanmedian(
                [r.get("postselection", math.nan) for r in rows]
            ),
            readout_median=_nanmedian([r.get("readout", math.nan) for r in rows]),
            postselection_rowmax_median=_nanmedian(
                [r.get("postselection_rowmax", math.nan) for r in rows]
            ),
            postselection_kthresh_median=_nanmedian(
                [r.get("postselection_kthresh", math.nan) for r in rows]
            ),
            decision_rule=rows[0].get("decision_rule", ""),
            depth=_nanmean([r.get("depth", math.nan) for r in rows]),
            n_trials=len(by_trial),
            n_runs=len(rows),
            accuracy_std=float(np.std(acc, ddof=1)) if len(acc) > 1 else math.nan,
            kappa_sem=_sem(kappa),
            kappa_median=_nanmedian(kappa),
            sparsity_mean=_nanmean([r.get("sparsity", math.nan) for r in rows]),
            nnz_mean=_nanmean([r.get("nnz", math.nan) for r in rows]),
            cg_iterations_mean=_nanmean(
                [r.get("cg_iterations", math.nan) for r in rows]
            ),
            classical_flops_mean=_nanmean(
                [r.get("classical_flops", math.nan) for r in rows]
            ),
            queries_median=_nanmedian([r.get("queries", math.nan) for r in rows]),
            sign_agreement_mean=_nanmean(
                [r.get("sign_agreement", math.nan) for r in rows]
            ),
            decision_rel_error_median=_nanmedian(
                [r.get("decision_rel_error", math.nan) for r in rows]
            ),
            classical_queries_median=_nanmedian(
                [r.get("classical_queries", math.nan) for r in rows]
            ),
            fit_time_mean=_nanmean([r.get("fit_time", math.nan) for r in rows]),
            predict_time_mean=_nanmean([r.get("predict_time", math.nan) for r in rows]),
            n_warnings=int(sum(r.get("n_warnings", 0) for r in rows)),
        )
        qr_keys = sorted({k for r in rows for k in r if k.startswith("qr_")})
        for k in qr_keys:
            summary[f"{k}_median"] = _nanmedian([r.get(k, math.nan) for r in rows])
        out.append(summary)
    out.sort(key=lambda s: tuple(s[k] for k in keys))
    return out


def _fmt(value):
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value) if math.isinf(value) else f"{value:.6g}"
    return value


def write_csv(path, rows, first=()):
    """Write dict rows to ``path`` with the columns ``first`` leading."""
    columns = list(first)
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, restval="nan")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _fmt(v) for k, v in row.items()})
    return path


def read_csv(path):
    """Rows of a CSV written by :func:`write_csv`, numbers parsed as floats.

    ``n`` and ``trial`` are parsed as ints.
    """
    rows = []
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            parsed = {}
            for key, value in row.items():
                try:
                    parsed[key] = float(value)
                except (TypeError, ValueError):
                    parsed[key] = value
            for key in ("n", "trial", "pattern"):
                value = parsed.get(key)
                if isinstance(value, float) and math.isfinite(value):
                    parsed[key] = int(value)
            rows.append(parsed)
    return rows


def summary_columns():
    return SUMMARY_COLUMNS + EXTRA_COLUMNS


def environment():
    """Versions and machine, for the run record."""
    import importlib.metadata as md

    versions = {}
    for dist in (
        "qntk-sklearn",
        "numpy",
        "scipy",
        "scikit-learn",
        "jax",
        "jaxlib",
        "neural-tangents",
        "pennylane",
        "matplotlib",
    ):
        try:
            versions[dist] = md.version(dist)
        except md.PackageNotFoundError:
            versions[dist] = None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "versions": versions,
    }


def write_json(path, payload):
    with open(path, "w") as fh:
        json.dump(payload, fh, indent=2, sort_keys=False, default=str)
        fh.write("\n")
    return path
