"""Run the experiments, write their CSV files, figures and the run record."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time

from ..datasets import load_mnist
from . import _plots
from ._baselines import baseline_trial
from ._cnn import CNN_DIGITS, cnn_trial, threshold_rule
from ._common import (
    EXPERIMENTS,
    MODES,
    environment,
    log,
    read_csv,
    summarize,
    summary_columns,
    write_csv,
    write_json,
)
from ._fc import FC_DIGITS, depth_trial, fc_trial, pair_data

RUN_RECORD = "run.json"

#: Experiments whose runner merges earlier rows in ``out`` when ``append`` is set.
APPENDABLE = ("fc", "baselines", "cnn")


def existing_results(experiments, out, *, append=False, cnn_image_size=16):
    """Result tables in ``out`` that running ``experiments`` would overwrite.

    Each experiment writes ``<name>.csv`` and ``<name>_runs.csv`` (and figures drawn
    from them); the CNN's name depends on its image size (``cnn``, ``cnn28``). With
    ``append``, the experiments that merge earlier rows (:data:`APPENDABLE`) keep
    them, so only the others count.

    Returns
    -------
    names : list of str
        File names, in ``out``, that exist and would be replaced.
    """
    clash = []
    for name in experiments:
        if append and name in APPENDABLE:
            continue
        if name == "cnn":
            name = _cnn_prefix(cnn_image_size)
        for fname in (f"{name}.csv", f"{name}_runs.csv"):
            if os.path.exists(os.path.join(out, fname)):
                clash.append(fname)
    return clash


def _map(fn, tasks, jobs):
    """``[fn(*t) for t in tasks]``, in ``jobs`` worker processes when jobs > 1."""
    if jobs <= 1 or len(tasks) <= 1:
        return [fn(*t) for t in tasks]
    from joblib import Parallel, delayed

    return Parallel(n_jobs=jobs, backend="loky")(delayed(fn)(*t) for t in tasks)


def _trials(cfg, count):
    return range(cfg.first_trial, cfg.first_trial + count)


def _flatten(results):
    return [row for rows in results for row in rows]


def _with_previous(runs, out, name, key="n"):
    """``runs`` plus the rows of an earlier ``<name>_runs.csv`` for other ``key``s."""
    path = os.path.join(out, f"{name}_runs.csv")
    if not os.path.exists(path):
        return runs
    fresh = {r[key] for r in runs}
    old = [r for r in read_csv(path) if r[key] not in fresh]
    return old + runs


def _depth_key(row):
    return (row["n"], float(row["depth"]), row["method"])


def run_fc(cfg, data, out):
    """MNIST 8 vs 9, FC network at depth="auto": one row per (n, method)."""
    pairs = pair_data(data, FC_DIGITS)
    tasks = [
        (pairs, n, t, cfg)
        for n in sorted(cfg.fc_sizes, reverse=True)
        for t in _trials(cfg, cfg.trials)
    ]
    runs = _flatten(_map(fc_trial, tasks, cfg.jobs))
    if cfg.append:
        runs = _with_previous(runs, out, "fc")
    summary = summarize(runs)
    write_csv(os.path.join(out, "fc_runs.csv"), runs, ["n", "method", "trial"])
    write_csv(os.path.join(out, "fc.csv"), summary, summary_columns())
    figures = _plots.plot_size_experiment(
        summary, out, "fc", "FC NTK, MNIST 8 vs 9, depth = round(0.1 L_conv)"
    )
    return {"csv": ["fc.csv", "fc_runs.csv"], "figures": _names(figures)}


def run_baselines(cfg, data, out):
    """Baselines on the FC experiment's (n, trial) splits."""
    pairs = pair_data(data, FC_DIGITS)
    tasks = [
        (pairs, n, t, cfg)
        for n in sorted(cfg.baseline_sizes, reverse=True)
        for t in _trials(cfg, cfg.trials)
    ]
    runs = _flatten(_map(baseline_trial, tasks, cfg.jobs))
    if cfg.append:
        runs = _with_previous(runs, out, "baselines")
    summary = summarize(runs)
    write_csv(os.path.join(out, "baselines_runs.csv"), runs, ["n", "method", "trial"])
    write_csv(os.path.join(out, "baselines.csv"), summary, summary_columns())
    figures = _plots.plot_baselines(summary, out)
    return {"csv": ["baselines.csv", "baselines_runs.csv"], "figures": _names(figures)}


def run_depth(cfg, data, out):
    """Depth sweep at n = ``cfg.depth_n``: accuracy against kappa and query count."""
    pairs = pair_data(data, FC_DIGITS)
    settings = [*cfg.depths, "auto"]
    tasks = [
        (pairs, d, t, cfg)
        for d in reversed(settings)
        for t in _trials(cfg, cfg.depth_trials)
    ]
    runs = _flatten(_map(depth_trial, tasks, cfg.jobs))
    summary = summarize(runs, keys=("n", "depth_setting", "method"))
    summary.sort(key=_depth_key)
    write_csv(os.path.join(out, "depth_runs.csv"), runs, ["n", "method", "trial"])
    write_csv(
        os.path.join(out, "depth.csv"),
        summary,
        summary_columns()[:2] + ["depth_setting"] + summary_columns()[2:],
    )
    figures = _plots.plot_depth(summary, out)
    return {"csv": ["depth.csv", "depth_runs.csv"], "figures": _names(figures)}


def _cnn_prefix(side):
    return "cnn" if side == 16 else f"cnn{side}"


def cnn_name(cfg):
    """Files and record key of a CNN run: "cnn" (16 x 16 images) or "cnn<side>"."""
    return _cnn_prefix(cfg.cnn_image_size)


def run_cnn(cfg, data, out):
    """Myrtle CNN, MNIST 0 vs 1, the paper's threshold sparsification.

    Trials run one after the other; the kernel uses ``cfg.jobs`` threads.
    """
    name = cnn_name(cfg)
    pairs = pair_data(data, CNN_DIGITS)
    rule, rule_info = threshold_rule(pairs, cfg)
    runs = []
    for t in _trials(cfg, cfg.cnn_trials):
        runs += cnn_trial(pairs, t, cfg, rule)
    timings = _cnn_timings(runs)
    if cfg.append:
        runs = _with_previous(runs, out, name, key="trial")
    summary = summarize(runs)
    write_csv(os.path.join(out, f"{name}_runs.csv"), runs, ["n", "method", "trial"])
    write_csv(os.path.join(out, f"{name}.csv"), summary, summary_columns())
    figures = _plots.plot_size_experiment(summary, out, name, _cnn_title(cfg))
    return {
        "csv": [f"{name}.csv", f"{name}_runs.csv"],
        "figures": _names(figures),
        "thresholds": rule_info,
        "timings": timings,
    }


def _cnn_title(cfg):
    side = cfg.cnn_image_size
    return (
        f"Myrtle CNN NTK (depth {cfg.cnn_depth}), MNIST 0 vs 1, {side}x{side} images, "
        "threshold sparsification"
    )


def _cnn_timings(runs):
    """Wall time of each part: the kernel per trial, fit and predict per method."""
    kernel = {}
    methods = {}
    for r in runs:
        kernel[r["trial"]] = {
            "entries": r["kernel_entries_trial"],
            "train_s": round(r["kernel_train_time_trial"], 2),
            "test_s": round(r["kernel_test_time_trial"], 2),
        }
        if r["decision_rule"] != "sign":
            continue
        m = methods.setdefault(r["method"], {"fit_s": 0.0, "predict_s": 0.0, "fits": 0})
        m["fit_s"] += r["fit_time"]
        m["predict_s"] += r["predict_time"]
        m["fits"] += 1
    for m in methods.values():
        m["fit_s"] = round(m["fit_s"], 3)
        m["predict_s"] = round(m["predict_s"], 3)
    return {"kernel_per_trial": kernel, "methods_total": methods}


RUNNERS = {"fc": run_fc, "baselines": run_baselines, "depth": run_depth, "cnn": run_cnn}

#: Record key of an experiment (the CNN's depends on the image size).
RECORD_KEYS = {"cnn": cnn_name}


def _read_record(path):
    record = {}
    if os.path.exists(path):
        with open(path) as fh:
            try:
                record = json.load(fh)
            except json.JSONDecodeError:
                record = {}
    record.setdefault("experiments", {})
    return record


def _describe_source(path):
    """File name and SHA-256 of the MNIST source (no local paths in the record)."""
    import hashlib

    if os.path.isdir(path):
        return {"folder": os.path.basename(os.path.normpath(path))}
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return {"file": os.path.basename(path), "sha256": digest.hexdigest()}


def _names(paths):
    return [os.path.basename(p) for p in paths]


def _cnn_names(out):
    import re

    names = [f[:-4] for f in sorted(os.listdir(out)) if re.fullmatch(r"cnn\d*\.csv", f)]
    return names


def _portable_argument(token):
    """``token`` with a local absolute path cut to its last component.

    ``run.json`` is committed and shared: it names files relative to the output
    folder (CSV files, figures) or by name and hash (the MNIST file), never by a path
    of the machine that ran it. Relative paths are kept as typed.
    """
    option, sep, value = (
        token.partition("=") if token.startswith("--") else ("", "", token)
    )
    if value and os.path.isabs(os.path.expanduser(value)):
        value = os.path.basename(os.path.normpath(os.path.expanduser(value)))
    return f"{option}{sep}{value}"


def _portable_command(argv):
    if argv is None:
        return None
    return " ".join(_portable_argument(token) for token in argv)


def replot(out):
    """Redraw every figure from the summary CSV files in ``out``."""
    drawn = []
    for name, fn in [
        (
            "fc",
            lambda r: _plots.plot_size_experiment(
                r, out, "fc", "FC NTK, MNIST 8 vs 9, depth = round(0.1 L_conv)"
            ),
        ),
        ("baselines", lambda r: _plots.plot_baselines(r, out)),
        ("depth", lambda r: _plots.plot_depth(r, out)),
    ] + [
        (
            name,
            lambda r, name=name: _plots.plot_size_experiment(
                r, out, name, "Myrtle CNN NTK, MNIST 0 vs 1, threshold sparsification"
            ),
        )
        for name in _cnn_names(out)
    ]:
        path = os.path.join(out, f"{name}.csv")
        if os.path.exists(path):
            rows = read_csv(path)
            if rows:
                drawn += _names(fn(rows))
    return drawn


def run_experiments(
    experiments=EXPERIMENTS,
    *,
    out,
    mnist=None,
    mode="full",
    jobs=1,
    seed=0,
    overrides=None,
    overwrite=False,
    argv=None,
):
    """Run the named experiments and write their outputs to ``out``.

    Parameters
    ----------
    experiments : sequence of {"fc", "baselines", "depth", "cnn"}
    out : str
        Output folder (created if needed).
    mnist : str or None
        MNIST file or folder (see :func:`qntk_sklearn.datasets.load_mnist`); None
        reads ``QNTK_MNIST``.
    mode : {"smoke", "quick", "full"}, default="full"
    jobs : int, default=1
        Worker processes for independent trials.
    seed : int, default=0
        Base seed of every split and pattern.
    overrides : dict or None
        Fields of the mode's :class:`~qntk_sklearn.experiments._common.Config` to
        replace, e.g. ``{"fc_sizes": (16, 32)}``; ``{"append": True}`` merges
        earlier rows of fc, baselines and cnn.
    overwrite : bool, default=False
        Replace result tables already in ``out``. Without it (and without
        ``append`` for the experiments that support it) an existing table is an
        error, raised before anything runs.
    argv : list of str or None
        The command line, recorded in ``run.json`` with absolute paths cut to their
        last component (``--out /tmp/x/results`` becomes ``--out results``).

    Returns
    -------
    record : dict
        What ``run.json`` now holds for this run.
    """
    if mode not in MODES:
        raise ValueError(f"`mode` must be one of {sorted(MODES)}; got {mode!r}.")
    unknown = [e for e in experiments if e not in RUNNERS]
    if unknown:
        raise ValueError(
            f"`experiments` must be among {list(EXPERIMENTS)}; got unknown {unknown}."
        )
    cfg = dataclasses.replace(
        MODES[mode], jobs=int(jobs), seed=int(seed), **(overrides or {})
    )
    for name, value in (
        ("jobs", cfg.jobs),
        ("trials", cfg.trials),
        ("depth_trials", cfg.depth_trials),
        ("cnn_trials", cfg.cnn_trials),
    ):
        if value < 1:
            raise ValueError(f"`{name}` must be a positive int; got {value!r}.")
    clash = existing_results(
        experiments, out, append=cfg.append, cnn_image_size=cfg.cnn_image_size
    )
    if clash and not overwrite:
        raise FileExistsError(
            f"Running {list(experiments)} would overwrite {clash} in {out!r}; pass "
            "overwrite=True (--overwrite) to replace them."
        )
    os.makedirs(out, exist_ok=True)
    data = load_mnist(mnist)
    record_path = os.path.join(out, RUN_RECORD)
    env = environment()
    for name in experiments:
        log(f"experiment {name} ({mode}) starting")
        start = time.perf_counter()
        result = RUNNERS[name](cfg, data, out)
        elapsed = time.perf_counter() - start
        log(f"experiment {name} finished in {elapsed:.0f} s")
        record = _read_record(record_path)  # re-read: another run may share `out`
        key = RECORD_KEYS[name](cfg) if name in RECORD_KEYS else name
        record["experiments"][key] = {
            "command": _portable_command(argv),
            "python": os.path.basename(sys.executable),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
            "wall_time_s": round(elapsed, 1),
            "mode": mode,
            "config": dataclasses.asdict(cfg),
            "mnist": _describe_source(data["source"]),
            "environment": env,
            **result,
        }
        write_json(record_path, record)
    return record
