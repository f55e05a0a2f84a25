"""The paper's numerical experiments, reproducible from the command line.

``python -m qntk_sklearn.experiments [fc] [baselines] [depth] [cnn] --out DIR
[--mnist PATH] [--quick | --smoke]`` (also installed as ``qntk-experiments``) runs:

``fc``
    Fully-connected NTK on MNIST 8 vs 9 at ``depth="auto"`` (the paper's
    ``round(0.1 L_conv)``): accuracy of the exact, randomly sparsified and diagonal
    NTK and of the emulated quantum solver with finite shots; condition number,
    sparsity, classical CG cost and the median measurement counts of state
    preparation (``n/P``) and readout (``1/o^2 - 1``), against the training-set size.
``baselines``
    RBF SVC (grid search), SVC with the NTK as kernel, an MLP and the exact NTK on the
    same splits, with fit and predict times.
``depth``
    The accuracy/conditioning trade-off: depth 2 to 128 (and "auto") at a fixed n.
``cnn``
    The paper's Myrtle CNN NTK (depth 96) on MNIST 0 vs 1 with threshold
    sparsification; needs the neural-tangents extra and is skipped, with a note in the
    output, without it.

Each experiment writes a summary CSV (one row per (n, method); columns ``n, method,
accuracy_mean, accuracy_sem, kappa_mean, postselection_median, readout_median`` and
more), a per-run CSV, PNG figures and its entry in ``run.json`` (command, date,
configuration, package versions, machine). Only the estimators' public API is used.
MNIST is read from local files (:mod:`qntk_sklearn.datasets`); nothing is downloaded.
"""

from ._common import EXPERIMENTS, MODES, Config, measurement_counts, summarize
from ._runner import replot, run_experiments

__all__ = [
    "EXPERIMENTS",
    "MODES",
    "Config",
    "measurement_counts",
    "replot",
    "run_experiments",
    "summarize",
]
