"""Numerically singular kernel systems: their cause, and collapsed solutions.

A kernel matrix is singular when two training points are duplicates (their rows are
equal, kernel correlation ``K_ij / sqrt(K_ii K_jj) = 1``) or a point has a zero kernel
(a zero input without bias). A factorisation of such a matrix can succeed in floating
point and return a solution dominated by its null space: huge coefficients of opposite
signs on the duplicates, which cancel in every prediction and leave rounding noise, so
that every decision value is the same (exactly 0.0 on the data of issue 8). Every solver
calls :func:`check_solution` on its result and warns with the cause and the remedy.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

#: Kernel correlation ``|K_ij| / sqrt(K_ii K_jj)`` from which two rows count as
#: duplicates (equal inputs give exactly 1; rounding leaves a few ulps).
DUPLICATE_CORRELATION = 1.0 - 1e-12

#: Rows examined at once when scanning a dense matrix for duplicates (memory bound).
_BLOCK_ROWS = 512

#: Pairs and rows listed in a message.
_LIST_MAX = 10


class CollapsedSolutionWarning(UserWarning):
    """The solution of the kernel system is dominated by its null space.

    Its decision values are rounding noise (typically all equal): the matrix is
    numerically singular, usually because of duplicate training points.
    """


def singular_rows(K):
    """Pairs of duplicate rows and rows with a zero diagonal in a kernel matrix.

    Two rows ``i < j`` are duplicates when ``|K_ij| >= DUPLICATE_CORRELATION *
    sqrt(K_ii K_jj) > 0`` (for a sparse matrix, among the stored entries: a pair that
    the sparsity pattern dropped does not make the sparsified matrix singular).

    Parameters
    ----------
    K : {ndarray, sparse matrix} of shape (n, n)
        Symmetric.

    Returns
    -------
    pairs : list of (int, int)
        Duplicate pairs, at most 10, in row order.
    zero_rows : ndarray of int
        Rows whose diagonal entry is 0.

    Examples
    --------
    >>> import numpy as np
    >>> K = np.array([[2.0, 2.0, 0.1], [2.0, 2.0, 0.1], [0.1, 0.1, 1.0]])
    >>> singular_rows(K)
    ([(0, 1)], array([], dtype=int64))
    """
    n = K.shape[0]
    diag = np.asarray(K.diagonal() if sp.issparse(K) else np.diag(K), dtype=float)
    scale = np.sqrt(np.abs(diag))
    zero_rows = np.flatnonzero(diag == 0)
    pairs = []
    if sp.issparse(K):
        coo = sp.coo_matrix(K)
        keep = (coo.row < coo.col) & (scale[coo.row] > 0) & (scale[coo.col] > 0)
        r, c, v = coo.row[keep], coo.col[keep], coo.data[keep]
        hit = np.abs(v) >= DUPLICATE_CORRELATION * scale[r] * scale[c]
        order = np.lexsort((c[hit], r[hit]))[:_LIST_MAX]
        pairs = [
            (int(a), int(b)) for a, b in zip(r[hit][order], c[hit][order], strict=True)
        ]
        return pairs, zero_rows
    K = np.asarray(K)
    safe = np.where(scale > 0, scale, np.inf)
    for start in range(0, n, _BLOCK_ROWS):
        block = (
            np.abs(K[start : start + _BLOCK_ROWS])
            / safe[start : start + _BLOCK_ROWS, None]
        )
        block /= safe[None, :]
        rows, cols = np.nonzero(block >= DUPLICATE_CORRELATION)
        rows = rows + start
        upper = rows < cols
        pairs += [
            (int(a), int(b)) for a, b in zip(rows[upper], cols[upper], strict=True)
        ]
        if len(pairs) >= _LIST_MAX:
            break
    return pairs[:_LIST_MAX], zero_rows


def describe_singularity(K):
    """A sentence naming the duplicate pairs and zero rows of ``K`` ('' if none).

    >>> import numpy as np
    >>> describe_singularity(np.array([[1.0, 1.0], [1.0, 1.0]]))[:44]
    ' Rows 0 and 1 of K are duplicates (kernel co'
    """
    pairs, zero_rows = singular_rows(K)
    text = ""
    if pairs:
        listed = ", ".join(f"{i} and {j}" for i, j in pairs)
        more = " (and possibly more)" if len(pairs) >= _LIST_MAX else ""
        text += (
            f" Rows {listed}{more} of K are duplicates (kernel correlation 1: "
            "identical training points)."
        )
    if zero_rows.size:
        listed = ", ".join(str(int(i)) for i in zero_rows[:_LIST_MAX])
        more = " ..." if zero_rows.size > _LIST_MAX else ""
        text += (
            f" Rows {listed}{more} of K are zero (a zero input without bias, or "
            "inputs so small that the kernel underflows)."
        )
    return text


#: What to do about a numerically singular kernel system (shared by the messages).
REMEDY = (
    "Remove duplicate training rows, or set `diag_reg` > 0 on the estimator (a "
    "ridge relative to the kernel's scale, e.g. 1e-6); with depth='auto', "
    "duplicates also made the depth large (their separation is 0): give a smaller "
    "`depth`."
)


def norm_bound(K):
    """``max_i sum_j |K_ij|``: an upper bound on the spectral norm (no densifying).

    >>> import numpy as np
    >>> norm_bound(np.array([[2.0, -1.0], [-1.0, 2.0]]))
    3.0
    """
    if sp.issparse(K):
        return float(np.asarray(abs(K).sum(axis=1)).max()) if K.shape[0] else 0.0
    return float(np.abs(K).sum(axis=1).max()) if K.shape[0] else 0.0


def amplification(K, Y, coef):
    """``||K|| ||coef|| / ||Y||`` (norm bound, Frobenius norms): at most the
    condition number of ``K`` for an exact solve, far above it for a solution that a
    singular factorisation filled with null-space components.
    """
    y_norm = float(np.linalg.norm(Y))
    if y_norm == 0:
        return 0.0
    return norm_bound(K) * float(np.linalg.norm(coef)) / y_norm


def collapse_threshold(n):
    """``1 / (n eps)``: an amplification beyond it leaves no correct digit."""
    return 1.0 / (max(int(n), 1) * np.finfo(np.float64).eps)


def check_solution(K, Y, coef, *, solver, warn=True, stacklevel=3):
    """Warn (:class:`CollapsedSolutionWarning`) when ``coef`` is dominated by the null
    space of ``K``; return whether it is.

    The criterion: ``||K|| ||coef|| / ||Y|| >= 1 / (n eps)``. A solve of a matrix with
    condition number ``kappa`` amplifies by at most ``kappa``; once the amplification
    reaches ``1 / (n eps)`` the rounding errors of the decision values ``K_star @
    coef`` (about ``n eps ||k*|| ||coef||``) are as large as the values themselves.
    The warning names the condition number (computed only then), the duplicate rows
    and the remedy.

    Parameters
    ----------
    K : {ndarray, sparse matrix} of shape (n, n)
    Y : ndarray of shape (n, n_targets)
    coef : ndarray of shape (n, n_targets)
    solver : str
        Name used in the message.
    warn : bool, default=True
        False: only report (the caller falls back to another solution).
    stacklevel : int, default=3

    Returns
    -------
    collapsed : bool
    """
    n = K.shape[0]
    rho = amplification(K, Y, coef)
    limit = collapse_threshold(n)
    if not rho >= limit:
        return False
    if not warn:
        return True
    from ._spectrum import spectrum

    try:
        kappa = spectrum(K)["condition_number"]
    except Exception:  # pragma: no cover - ARPACK failures: the message still helps
        kappa = float("nan")
    warnings.warn(
        f"{solver}: the kernel system is numerically singular (condition number "
        f"{kappa:.3g}) and its solution is dominated by the null space: "
        f"||K|| ||coef|| / ||Y|| = {rho:.3g} >= 1/(n eps) = {limit:.3g}, so decision "
        "values are rounding noise (typically all equal, every prediction the same)."
        + describe_singularity(K)
        + " "
        + REMEDY,
        CollapsedSolutionWarning,
        stacklevel=stacklevel,
    )
    return True
