"""Figures of the experiments (matplotlib, Agg backend), drawn from the summary rows."""

from __future__ import annotations

import math
import os

import numpy as np

_STYLE = {
    "exact": dict(color="black", marker="o", label="exact NTK"),
    "sparse": dict(color="tab:blue", marker="s", label="sparsified NTK (random)"),
    "threshold": dict(color="tab:blue", marker="s", label="sparsified NTK (threshold)"),
    "diagonal": dict(color="tab:orange", marker="^", label="diagonal NTK"),
    "qsvt": dict(color="tab:green", marker="D", label="emulated QSVT"),
    "dequantized": dict(color="tab:olive", marker="*", label="dequantized sampling"),
    "exact_ntk": dict(color="black", marker="o", label="exact NTK"),
    "svc_ntk": dict(color="tab:purple", marker="v", label="SVC, NTK kernel"),
    "svc_rbf": dict(color="tab:red", marker="P", label="SVC, RBF (grid search)"),
    "mlp": dict(color="tab:brown", marker="X", label="MLP (256 hidden)"),
}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _style(method):
    base = method.removesuffix("_median_rule")
    key = base
    for prefix in ("qsvt", "dequantized"):
        if base.startswith(prefix):
            key = prefix
    style = dict(_STYLE.get(key, dict(marker=".", label=base)))
    if key == "qsvt":
        style["label"] = f"emulated QSVT ({base.split('_', 1)[-1]})"
    elif key == "dequantized":
        style["label"] = f"dequantized ({base.split('_', 1)[-1]})"
    if method.endswith("_median_rule"):
        style["label"] += ", median rule"
        style["linestyle"] = "--"
        style["markerfacecolor"] = "none"
    return style


def _series(rows, method, x="n"):
    sel = sorted((r for r in rows if r["method"] == method), key=lambda r: float(r[x]))
    return sel


def _methods(rows, median=False):
    seen = []
    for r in rows:
        m = r["method"]
        if m.endswith("_median_rule") == median and m not in seen:
            seen.append(m)
    return seen


def _errorbar(ax, rows, method, y, yerr=None, x="n"):
    sel = _series(rows, method, x)
    xs = np.array([float(r[x]) for r in sel])
    ys = np.array([float(r[y]) for r in sel])
    ok = np.isfinite(ys)
    if not ok.any():
        return
    err = None
    if yerr is not None:
        err = np.array([float(r[yerr]) for r in sel])[ok]
        err = np.where(np.isfinite(err), err, 0.0)
    ax.errorbar(xs[ok], ys[ok], yerr=err, capsize=3, **_style(method))


def _finish(fig, ax_list, path, title):
    for ax in ax_list:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    _pyplot().close(fig)
    return path


def plot_size_experiment(rows, out, prefix, title):
    """Accuracy, conditioning and measurement counts against n (the paper's figures)."""
    plt = _pyplot()
    paths = []
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, median in zip(axes, (False, True), strict=True):
        for m in _methods(rows, median):
            _errorbar(ax, rows, m, "accuracy_mean", "accuracy_sem")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("training set size n")
        ax.set_title(
            "estimator rule: sign(k*^T K^-1 (y - mean y))"
            if not median
            else "paper's rule: threshold at median of test outputs",
            fontsize=9,
        )
    axes[0].set_ylabel("test accuracy (mean +- s.e. over trials)")
    paths.append(_finish(fig, axes, os.path.join(out, f"{prefix}_accuracy.png"), title))

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for m in _methods(rows):
        _errorbar(axes[0], rows, m, "kappa_mean", "kappa_sem")
        _errorbar(axes[1], rows, m, "sparsity_mean")
        _errorbar(axes[2], rows, m, "cg_iterations_mean")
    axes[0].set_ylabel("condition number kappa")
    axes[0].set_yscale("log")
    axes[1].set_ylabel("max nonzeros per row s")
    axes[1].set_yscale("log")
    axes[2].set_ylabel("classical CG/MINRES iterations (tol 1e-8)")
    ns = sorted({float(r["n"]) for r in rows})
    if ns:
        axes[1].plot(
            ns, [2 * math.log(v) + 1 for v in ns], ":", color="gray", label="2 ln n + 1"
        )
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xlabel("training set size n")
    paths.append(
        _finish(fig, axes, os.path.join(out, f"{prefix}_conditioning.png"), title)
    )

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for m in _methods(rows):
        _errorbar(axes[0], rows, m, "postselection_median")
        _errorbar(axes[1], rows, m, "readout_median")
    others = (
        (
            "postselection_rowmax_median",
            ":",
            "s",
            "each row by its own max (inductive)",
        ),
        ("postselection_kthresh_median", "--", "x", "k_thresh alone, no rescaling"),
    )
    for m in [m for m in _methods(rows) if m in ("sparse", "threshold")]:
        sel = _series(rows, m)
        xs = np.array([float(r["n"]) for r in sel])
        for column, line, marker, label in others:
            ys = np.array([float(r.get(column, "nan")) for r in sel])
            ok = np.isfinite(ys)
            if ok.any():
                axes[0].plot(
                    xs[ok],
                    ys[ok],
                    line,
                    marker=marker,
                    markerfacecolor="none",
                    color="gray",
                    label=f"{_style(m)['label']}: {label}",
                )
    if ns:
        axes[0].plot(ns, [math.log(v) for v in ns], "-.", color="silver", label="ln n")
    axes[0].set_ylabel("post-selection n/P (median)")
    axes[0].set_title(
        "solid: the paper's n/P (clipped k* / largest entry of the test batch)",
        fontsize=8,
    )
    axes[1].set_ylabel("readout measurements 1/o^2 - 1 (median)")
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("training set size n")
    paths.append(
        _finish(fig, axes, os.path.join(out, f"{prefix}_measurements.png"), title)
    )
    cost = plot_prediction_cost(rows, out, prefix, title)
    if cost is not None:
        paths.append(cost)
    return paths


def _column(rows, method, column):
    sel = _series(rows, method)
    xs = np.array([float(r["n"]) for r in sel])
    ys = np.array([float(r.get(column, "nan")) for r in sel])
    ok = np.isfinite(ys)
    return xs[ok], ys[ok]


def plot_prediction_cost(rows, out, prefix, title):
    """What one prediction costs, quantum (gates) and classical, and how noisy it is.

    Drawn when the rows have a QSVT or dequantized method (None otherwise).
    """
    qsvt = [m for m in _methods(rows) if m.startswith("qsvt")]
    deq = [m for m in _methods(rows) if m.startswith("dequantized")]
    if not (qsvt or deq):
        return None
    # The noise panel only where a run measured the sign agreement (the CNN
    # experiment does not: an empty panel would say nothing).
    agreement = any(_column(rows, m, "sign_agreement_mean")[0].size for m in qsvt + deq)
    plt = _pyplot()
    if agreement:
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    else:
        fig, ax = plt.subplots(1, 1, figsize=(6.5, 4.2))
        axes = [ax]
    ax = axes[0]
    for m in qsvt:
        for column, marker, label in (
            ("qr_gates_toffoli_per_prediction_median", "D", "Toffoli gates"),
            ("qr_gates_toffoli_qsvt_median", "d", "Toffolis of one QSVT circuit"),
            ("qr_gates_lookups_per_prediction_median", "o", "QROM lookups"),
        ):
            xs, ys = _column(rows, m, column)
            if xs.size:
                ax.plot(
                    xs,
                    ys,
                    "-",
                    marker=marker,
                    color="tab:green",
                    label=label,
                    markerfacecolor="none" if marker != "D" else None,
                )
    for m in deq:
        xs, ys = _column(rows, m, "classical_queries_median")
        if xs.size:
            ax.plot(
                xs,
                ys,
                "-",
                marker="*",
                color="tab:olive",
                label=f"{_style(m)['label']}: classical queries",
            )
    ns = sorted({float(r["n"]) for r in rows})
    if ns:
        ax.plot(
            ns,
            [2 * v for v in ns],
            ":",
            color="black",
            label="classical k*.a: 2n flops",
        )
    ax.set_ylabel("cost of one prediction (one test point)")
    ax.set_title(
        "quantum: sparse-access QSVT, gate level; classical: sampling, flops",
        fontsize=8,
    )
    if agreement:
        ax = axes[1]
        for m in qsvt + deq:
            _errorbar(ax, rows, m, "sign_agreement_mean")
        ax.set_ylabel("sign agreement with the noiseless decision")
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xlabel("training set size n")
    axes[0].set_yscale("log")
    return _finish(fig, axes, os.path.join(out, f"{prefix}_cost.png"), title)


def plot_baselines(rows, out):
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for m in _methods(rows):
        _errorbar(axes[0], rows, m, "accuracy_mean", "accuracy_sem")
        _errorbar(axes[1], rows, m, "fit_time_mean")
        _errorbar(axes[2], rows, m, "predict_time_mean")
    axes[0].set_ylabel("test accuracy")
    axes[1].set_ylabel("fit time [s]")
    axes[2].set_ylabel("predict time (256 points) [s]")
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xlabel("training set size n")
    for ax in axes[1:]:
        ax.set_yscale("log")
    return [
        _finish(
            fig,
            axes,
            os.path.join(out, "baselines.png"),
            "Baselines on the FC experiment's splits (MNIST 8 vs 9)",
        )
    ]


def plot_depth(rows, out):
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for m in _methods(rows):
        _errorbar(axes[0], rows, m, "accuracy_mean", "accuracy_sem", x="depth")
        sel = _series(rows, m, "depth")
        style = _style(m)
        for ax, x in ((axes[1], "kappa_mean"), (axes[2], "queries_median")):
            xs = np.array([float(r[x]) for r in sel])
            ys = np.array([float(r["accuracy_mean"]) for r in sel])
            ok = np.isfinite(xs) & np.isfinite(ys)
            if ok.any():
                ax.plot(xs[ok], ys[ok], **style)
                for r, xv, yv in zip(
                    np.array(sel, dtype=object)[ok], xs[ok], ys[ok], strict=True
                ):
                    ax.annotate(
                        f"{float(r['depth']):.0f}",
                        (xv, yv),
                        fontsize=6,
                        xytext=(2, 2),
                        textcoords="offset points",
                    )
    axes[0].set_xscale("log", base=2)
    axes[0].set_xlabel("depth L")
    axes[0].set_ylabel("test accuracy")
    axes[1].set_xscale("log")
    axes[1].set_xlabel("condition number kappa (labels: depth)")
    axes[2].set_xscale("log")
    axes[2].set_xlabel("estimated QLSA queries (quantum_resources_)")
    n = rows[0]["n"] if rows else "?"
    return [
        _finish(
            fig,
            axes,
            os.path.join(out, "depth_tradeoff.png"),
            f"Depth trade-off, FC NTK, MNIST 8 vs 9, n = {float(n):.0f}",
        )
    ]
