"""Degenerate models, detected at fit: what happened, and which parameter fixes it.

* Inputs whose squared norms underflow or overflow float64 (the fully connected
  kernel sees inputs only through norms and inner products): an error.
* A zero kernel: an error (every prediction would be the training mean).
* Depths above :data:`MAX_DEPTH`: an error (see its note).
* An effectively diagonal kernel (deep networks): the regressor's predictions equal
  the training mean (:class:`DiagonalKernelWarning`); the classifier's signs still
  follow the nearest training points, and its decision values are rescaled
  (:func:`decision_scale`).
* An indefinite kernel (a shallow network's randomly sparsified NTK):
  :class:`IndefiniteKernelWarning`.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

from ..solvers._conditioning import DUPLICATE_CORRELATION, describe_singularity
from ..solvers._evolution import PSD_TOL

#: Largest network depth the estimators build. Why a cap: the paper's normalised erf
#: network multiplies its NTK's diagonal by W_std^2 E[erf'(u)^2] ~ 1.23 per layer at
#: its fixed point, so the kernel overflows float64 after ~3500 layers; long before,
#: every kernel has reached its depth-independent limit (erf: diagonal, so the
#: regressor predicts the training mean; relu: a constant matrix), which a
#: deeper network only recomputes at a cost linear in depth (``depth=10**6`` took
#: minutes). The paper's depths are about 40 to 120.
MAX_DEPTH = 5000

#: Regressor: largest off-diagonal kernel correlation (median over training points)
#: below which the kernel counts as diagonal: predictions then differ from the
#: training mean by less than this fraction of the targets' scale.
DIAGONAL_RATIO = 1e-6

#: Training rows probed against all training points to measure the off-diagonal
#: ratio on the sparse paths (``PROBE_ROWS * n`` kernel entries, about the cost of
#: the sparsity pattern's ``n ln n`` for n ~ 3000).
PROBE_ROWS = 8


#: Classifier: off-diagonal ratio below which decision values are rescaled
#: (:func:`decision_scale`).
DECISION_RATIO = 1e-2


def decision_scale(ratio):
    """The classifier's ``decision_scale_``: ``min(1, ratio / DECISION_RATIO)``.

    A nearly diagonal kernel (a deep network) gives unseen points decision values of
    the order of ``offdiagonal_ratio_`` (1e-25 at depth 256 on well separated
    blobs) while training points get +-1. Predictions only need their signs, but
    :class:`~sklearn.calibration.CalibratedClassifierCV` (``method="sigmoid"``)
    fits Platt's sigmoid to held-out decision values with L-BFGS at an absolute
    gradient tolerance of 1e-6 and rescales only values above 30, so on such tiny
    values it stops at slope 0: one constant probability. Dividing by this scale
    brings held-out decision values to order ``DECISION_RATIO`` or more; decisions
    of kernels that are not nearly diagonal (ratio >= 1e-2) are left unchanged.
    An undefined or zero ratio gives 1.

    >>> decision_scale(0.5), decision_scale(0.004), decision_scale(float("nan"))
    (1.0, 0.4, 1.0)
    """
    if not ratio > 0:
        return 1.0
    return min(1.0, float(ratio) / DECISION_RATIO)


class DiagonalKernelWarning(UserWarning):
    """The kernel is effectively diagonal: predictions carry no information."""


class IndefiniteKernelWarning(UserWarning):
    """The solved kernel matrix is indefinite (a sparsified shallow network's)."""


def check_depth(depth, *, depth_param, depth_factor=None, L_conv=None):
    """Raise ValueError for a depth above :data:`MAX_DEPTH`.

    >>> check_depth(10**6, depth_param=10**6)
    Traceback (most recent call last):
    ...
    ValueError: `depth` must be at most MAX_DEPTH = 5000; got 1000000. ...
    """
    if depth is None or depth <= MAX_DEPTH:
        return
    why = (
        "Beyond it every network here has reached its depth-independent limit "
        "(the normalised erf NTK is diagonal, and overflows float64 after ~3500 "
        "layers; relu's is constant): a deeper network predicts nothing new, only "
        "slower. The paper's depths are 40 to 120."
    )
    if depth_param == "auto":
        conv = "" if L_conv is None else f", L_conv = {L_conv:.4g}"
        raise ValueError(
            f"`depth_factor`={depth_factor!r} gives depth={depth} (depth='auto': "
            f"round(depth_factor * L_conv){conv}), above MAX_DEPTH = {MAX_DEPTH}. "
            f"{why} Use a smaller `depth_factor` (the paper's is 0.1)."
        )
    raise ValueError(
        f"`depth` must be at most MAX_DEPTH = {MAX_DEPTH}; got {depth}. {why} Use a "
        "smaller `depth`."
    )


def check_input_scale(X):
    """Raise ValueError when squared norms of rows of ``X`` overflow or underflow.

    The fully connected NTK depends on ``|x|^2`` and ``x . x'``: inputs scaled by
    1e-170 have ``|x|^2 = 0`` in float64 and a zero kernel, inputs of 1e170 an
    infinite one.

    >>> import numpy as np
    >>> check_input_scale(np.full((2, 3), 1e-170))
    Traceback (most recent call last):
    ...
    ValueError: The squared norms of 2 rows of `X` underflow float64 ...
    """
    sq = np.einsum("ij,ij->i", X, X)
    if not np.all(np.isfinite(sq)):
        big = float(np.max(np.abs(X)))
        raise ValueError(
            f"The squared norms of {int(np.sum(~np.isfinite(sq)))} rows of `X` "
            f"overflow float64 (max |x_ij| = {big:.3g}), so the kernel would be "
            "infinite. Rescale the inputs, e.g. with StandardScaler or Normalizer."
        )
    nonzero = np.any(X != 0, axis=1)
    tiny = nonzero & (sq < np.finfo(np.float64).tiny)
    if np.any(tiny):
        small = float(np.max(np.abs(X[tiny])))
        raise ValueError(
            f"The squared norms of {int(tiny.sum())} rows of `X` underflow float64 "
            f"(|x|^2 < 2.2e-308; their largest entry is {small:.3g}), so their "
            "kernel is zero and every such point looks like every other. Rescale "
            "the inputs, e.g. with StandardScaler or Normalizer."
        )


def check_zero_kernel(K):
    """Raise ValueError when the kernel's diagonal is zero everywhere."""
    diag = K.diagonal() if sp.issparse(K) else np.diag(K)
    if diag.size and np.all(diag == 0):
        raise ValueError(
            "The kernel of the training set is zero (every diagonal entry is 0), so "
            "every prediction would be the training mean. With b_std=0 a zero input "
            "has a zero kernel: rescale or shift the inputs (e.g. StandardScaler then "
            "Normalizer), or set `b_std` > 0; a precomputed `X` must be a kernel "
            "matrix with a positive diagonal."
        )


def _weighted_median(values, weights):
    order = np.argsort(values, kind="stable")
    values, weights = values[order], weights[order]
    cum = np.cumsum(weights)
    return float(values[np.searchsorted(cum, 0.5 * cum[-1])])


def offdiagonal_ratio(rows, row_index, diag, sample_weight=None):
    """Weighted median over rows of the largest kernel correlation with another point.

    Parameters
    ----------
    rows : {ndarray, sparse matrix} of shape (m, n)
        Kernel rows of training points ``row_index`` against the whole training set
        (for a sparse matrix, its stored entries).
    row_index : ndarray of int of shape (m,)
    diag : ndarray of shape (n,)
        The kernel's diagonal.
    sample_weight : ndarray of shape (n,) or None

    Returns
    -------
    ratio : float
        For each row, ``max_j |K_ij| / sqrt(K_ii K_jj)`` over ``j != i`` that is not
        a duplicate of ``i`` (correlation below ``DUPLICATE_CORRELATION``); then the
        (weighted) median over rows. 0 when no row has such an entry.

    Examples
    --------
    >>> import numpy as np
    >>> K = np.array([[1.0, 1e-3, 0.0], [1e-3, 1.0, 1e-5], [0.0, 1e-5, 1.0]])
    >>> offdiagonal_ratio(K, np.arange(3), np.diag(K))
    0.001
    """
    scale = np.sqrt(np.abs(np.asarray(diag, dtype=float)))
    safe = np.where(scale > 0, scale, np.inf)
    m = len(row_index)
    best = np.zeros(m)
    if sp.issparse(rows):
        coo = sp.coo_matrix(rows)
        r, c = coo.row, coo.col
        corr = np.abs(coo.data) / (safe[row_index[r]] * safe[c])
        keep = (row_index[r] != c) & (corr < DUPLICATE_CORRELATION)
        np.maximum.at(best, r[keep], corr[keep])
    else:
        corr = np.abs(np.asarray(rows)) / (safe[row_index][:, None] * safe[None, :])
        corr[np.arange(m), row_index] = 0.0
        corr[corr >= DUPLICATE_CORRELATION] = 0.0
        best = corr.max(axis=1) if corr.size else best
    if m == 0:
        return 0.0
    w = np.ones(m) if sample_weight is None else np.asarray(sample_weight)[row_index]
    return _weighted_median(best, w)


def warn_diagonal(ratio, *, depth):
    """The regressor's :class:`DiagonalKernelWarning` below :data:`DIAGONAL_RATIO`.

    Its predictions are then the training mean (R^2 ~ 0). The classifier does not
    warn: the signs of its decision values still follow the nearest training points
    however small they are (:func:`decision_scale` keeps them usable for
    calibration), and exactly zero off-diagonal entries also come from orthogonal
    inputs with an odd activation, which are not degenerate.
    """
    if not ratio < DIAGONAL_RATIO:
        return
    where = f" at depth={depth}" if depth is not None else ""
    warnings.warn(
        f"The kernel is effectively diagonal{where}: off-diagonal/diagonal = "
        f"{ratio:.3g} < {DIAGONAL_RATIO:g} (median over training points of the "
        "largest kernel correlation with another point), so predictions equal the "
        "training mean to within that fraction of the targets' scale (R^2 ~ 0); use "
        "a smaller `depth` (or `depth_factor` with depth='auto'; e.g. depth=16 on "
        "standardised data).",
        DiagonalKernelWarning,
        stacklevel=3,
    )


def warn_indefinite(info, K, *, sparsity, depth, mean_diag, diag_reg=0.0):
    """:class:`IndefiniteKernelWarning` when the solved matrix ``K`` is indefinite.

    The cause named: duplicate training points (a random pattern keeps some of their
    equal entries and drops others), else a shallow network's large off-diagonal
    entries, else (an exact kernel) the kernel itself.
    """
    lam_min, max_abs = info["lambda_min"], info["max_abs"]
    if not lam_min < -PSD_TOL * max_abs:
        return
    sparsified = sparsity in ("random", "threshold")
    what = f"sparsified (sparsity={sparsity!r}) kernel" if sparsified else "kernel"
    where = f" at depth={depth}" if depth is not None else ""
    need = diag_reg - lam_min / mean_diag if mean_diag > 0 else float("nan")
    duplicates = describe_singularity(K) if sparsified else ""
    if duplicates:
        cause = (
            f"{duplicates} A random pattern that keeps some of their equal entries "
            "and drops others is indefinite: remove duplicate rows."
        )
    elif sparsified:
        cause = (
            " The exact NTK is positive semi-definite; dropping entries at random "
            "from a shallow network's kernel, whose off-diagonal entries are large, "
            "is not."
        )
    else:
        cause = ""
    warnings.warn(
        f"The {what}{where} is indefinite (lambda_min = {lam_min:.3g}, condition "
        f"number {info['condition_number']:.3g}): its eigenvalues near zero make "
        "predictions unreliable (regression R^2 far below 0, lower accuracy)."
        f"{cause} Use a deeper network (`depth`), sparsity='none', or "
        f"`diag_reg` > {need:.2g} (a ridge relative to mean(diag K) that makes it "
        "positive definite).",
        IndefiniteKernelWarning,
        stacklevel=3,
    )
