"""The paper's depth rule: separation of the training set and convergence depth.

``depth="auto"`` sets ``depth = round(depth_factor * 8 ln(n / delta) / mu)`` with the
separation ``delta = min_{i != j} (1 - |cos(x_i, x_j)|)``. The separation is a closest
pair problem over all ``n^2 / 2`` pairs; :func:`separation` solves it exactly at the
cost of one float32 matrix product over the upper triangle:

1. **Float32 candidates.** The unit rows are multiplied in float32 tiles (symmetry:
   only tiles on and above the diagonal). A float32 dot product of length ``d``
   differs from the float64 one by at most ``eps ~ (d + 2) 2^-24`` (the standard
   bound ``gamma_d |u| |v|`` on any summation order, plus the rounding of the inputs
   to float32), so a pair whose float32 ``|cos|`` is more than ``2 eps`` below the
   tile's largest cannot hold the tile's largest float64 ``|cos|``.
2. **Float64 refinement.** The few pairs within that margin are recomputed in float64
   from the same unit rows as the all-pairs computation, and the largest kept. The
   result is the pair the all-pairs float64 computation finds, with its float64
   value (up to the order of summation inside one dot product, a few units in the
   last place). A tile where too many pairs tie within the margin (e.g. many exactly
   orthogonal rows) is recomputed in float64 as a whole.

Half the products, in single precision, with O(tile) memory: on all 60,000 MNIST
training images 40 CPU-seconds instead of 131 and ~0.2 GB instead of ~1.5 GB on top
of the data (``benchmarks/bench_separation.py``). A float32 first pass
written by hand, not a nearest-neighbour library: exact neighbour searches
(``sklearn.neighbors``) fall back to the same brute-force product in 784 dimensions,
in float64, without the symmetric half.

Duplicates. Rows with the same direction up to sign (identical rows, rows equal up to
a positive scale, antipodal rows ``x`` and ``-x``) have ``|cos| = 1``, so the paper's
``delta`` is 0 and ``L_conv`` infinite. :func:`separation` with ``distinct=True``
(what ``depth="auto"`` uses) treats them as one point: rows whose unit vectors are
equal up to sign are grouped exactly (bitwise, after fixing the sign), and pairs whose
float64 separation is within the rounding error of a unit dot product of zero
(``1 - |cos| <= 4 (d + 2) 2^-53``, about 3.5e-13 for d = 784) are grouped too, since
float64 cannot tell their directions apart.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .._parallel import map_blocks
from ..kernels import nonlinearity_coefficient

#: Rows (and columns) of one float32 tile of cosines: 16 MiB.
_TILE = 2048

#: Candidate pairs refined one by one per tile; beyond, the tile is redone in float64.
_MAX_CANDIDATES = 4 * _TILE

#: Rows normalised at a time while hashing (bounded memory).
_HASH_BLOCK = 4096

_U32 = 2.0**-24
_U64 = 2.0**-53


class DuplicateSamplesWarning(UserWarning):
    """Training rows repeat (up to scale or sign): ``depth="auto"`` ignored them.

    Identical rows give identical kernel rows, so the kernel matrix is singular (or,
    sparsified, nearly so) and no solution fits them if their labels differ.
    """


@dataclass(frozen=True)
class SeparationInfo:
    """What :func:`separation` finds (private: returned by ``_separation_info``)."""

    delta: float  # the paper's: min over all pairs (0 with duplicates)
    delta_distinct: float  # min over pairs of distinct directions
    n_samples: int
    n_distinct: int  # distinct directions (up to sign)
    n_identical: int  # rows numerically equal to an earlier row
    pair: tuple | None  # a pair of distinct rows at delta_distinct


def separation(X, *, distinct=False, n_jobs=None, verbose=0):
    """The paper's separation ``delta = min_{i != j} (1 - |cos(x_i, x_j)|)``.

    Exact (the float64 value of the closest pair) at the cost of a float32 product
    over the pairs ``i < j`` (see the module notes), in tiles of bounded memory. Rows
    of zero norm are treated as orthogonal to everything.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    distinct : bool, default=False
        False: the paper's definition, 0 when two rows have the same direction up to
        sign (duplicates). True: the minimum over pairs of distinct directions, what
        ``depth="auto"`` uses; rows with the same direction up to sign count once.
    n_jobs : int or None, default=None
        Workers over the tiles (joblib; None means 1 unless in a
        :func:`joblib.parallel_config` context, -1 all cores).
    verbose : int, default=0
        If positive, show a progress bar on stderr.

    Returns
    -------
    delta : float
        In [0, 1]; 1.0 when there are fewer than two (distinct) samples.

    Examples
    --------
    >>> import numpy as np
    >>> separation(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    0.29289321881345254
    >>> X = np.array([[1.0, 0.0], [1.0, 1.0], [-2.0, -2.0]])
    >>> separation(X), separation(X, distinct=True)
    (0.0, 0.29289321881345254)
    """
    info = _separation_info(X, n_jobs=n_jobs, verbose=verbose)
    return info.delta_distinct if distinct else info.delta


def convergence_depth(n_samples, delta, activation="erf"):
    """The paper's convergence depth ``L_conv = 8 ln(n / delta) / mu``.

    ``delta`` is floored at 1e-12 (duplicate or antipodal points give 0).

    Examples
    --------
    >>> round(convergence_depth(512, 0.05, "erf"), 1)
    854.8
    """
    delta = max(float(delta), 1e-12)
    return (
        8.0 * math.log(max(n_samples, 2) / delta) / nonlinearity_coefficient(activation)
    )


def auto_depth(X, depth_factor, activation, *, n_jobs=None, verbose=0):
    """``round(depth_factor * L_conv)`` over the distinct rows of ``X``, at least 1.

    Warns with :class:`DuplicateSamplesWarning` when rows repeat (up to scale or
    sign): they are left out of ``n`` and ``delta``.
    """
    info = _separation_info(X, n_jobs=n_jobs, verbose=verbose)
    L_conv = convergence_depth(info.n_distinct, info.delta_distinct, activation)
    depth = max(1, int(round(depth_factor * L_conv)))
    repeated = info.n_samples - info.n_distinct
    if repeated:
        warnings.warn(
            f"{repeated} of the {info.n_samples} training rows repeat another row "
            f"({info.n_identical} identical, {repeated - info.n_identical} equal up "
            "to a scale factor or sign); depth='auto' ignored them and computed the "
            f"separation over the {info.n_distinct} distinct rows "
            f"(delta={info.delta_distinct:.3g}, depth={depth}). Identical rows have "
            "identical kernel rows: the kernel system is singular (near-singular "
            "once sparsified) and cannot fit them if their labels differ. Remove "
            "or merge the duplicates (e.g. np.unique(X, axis=0, return_inverse=True))"
            ", or set `depth` explicitly.",
            DuplicateSamplesWarning,
            stacklevel=4,
        )
    return depth


# --- the computation --------------------------------------------------------------
def _unit(X, norms, idx):
    """Unit rows ``X[idx] / |X[idx]|`` in float64, as the all-pairs computation forms
    them (rows of zero norm stay zero)."""
    return X[idx] / norms[idx, None]


def _separation_info(X, *, n_jobs=None, verbose=0):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(
            f"`X` must be a 2-D array of shape (n_samples, n_features); got shape "
            f"{X.shape}."
        )
    n, d = X.shape
    norms = np.linalg.norm(X, axis=1)
    norms = np.where(norms > 0, norms, 1.0)  # zero rows stay zero
    reps, n_identical, n_zero = _distinct_directions(X, norms)
    m = int(reps.size)
    # The paper's delta is 0 when a nonzero direction repeats; zero rows are
    # orthogonal to everything (each other included), as they always were.
    repeats = n - m > n_zero
    if m < 2:
        return SeparationInfo(0.0 if repeats else 1.0, 1.0, n, m, n_identical, None)
    # Columns that are zero in every row contribute nothing to any dot product.
    keep = np.flatnonzero(np.any(X[reps] != 0.0, axis=0))
    d_kept = max(int(keep.size), 1)
    gamma32 = d_kept * _U32 / (1.0 - d_kept * _U32)
    gamma64 = d * _U64 / (1.0 - d * _U64)
    slack = (1.0 + (d + 1) * _U64) ** 2
    eps = (gamma32 * (1 + _U32) ** 2 + 2 * _U32 + _U32**2 + gamma64) * slack
    eps = 1.01 * eps + 2.0**-22  # thresholds are compared in float32
    tol = 4.0 * (d + 2) * _U64  # separations indistinguishable from 0
    U32 = np.empty((m, keep.size), dtype=np.float32)
    for start in range(0, m, _HASH_BLOCK):
        idx = reps[start : start + _HASH_BLOCK]
        U32[start : start + idx.size] = _unit(X, norms, idx)[:, keep]
    starts = range(0, m, _TILE)
    tiles = [(i, j) for i in starts for j in starts if j >= i]
    # Large arrays are top-level task arguments, the same objects for every task,
    # so that a dask cluster receives them once.
    tasks = [
        (X, norms, reps, U32, eps, tol, i, j, _TILE, _MAX_CANDIDATES) for i, j in tiles
    ]
    sizes = [min(_TILE, m - i) * min(_TILE, m - j) for i, j in tiles]
    best, best_pair, top, coincident = -1.0, None, -1.0, []
    for _, (t_best, t_pair, t_top, t_coincident) in map_blocks(
        _tile_search,
        tasks,
        n_jobs=n_jobs,
        verbose=verbose,
        desc="separation",
        sizes=sizes,
    ):
        # Ties go to the smallest pair: the order tiles finish in does not matter.
        if t_pair is not None and (
            best_pair is None
            or t_best > best
            or (t_best == best and t_pair < best_pair)
        ):
            best, best_pair = t_best, t_pair
        top = max(top, t_top)
        coincident.append(t_coincident)
    pairs = np.concatenate(coincident)
    n_distinct = m
    if pairs.size:
        graph = sp.coo_matrix(
            (np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(m, m)
        )
        n_distinct = int(connected_components(graph, directed=False)[0])
    delta = 0.0 if repeats else max(1.0 - top, 0.0)
    if best_pair is None:
        return SeparationInfo(delta, 1.0, n, n_distinct, n_identical, None)
    pair = (int(reps[best_pair[0]]), int(reps[best_pair[1]]))
    return SeparationInfo(
        float(delta), max(1.0 - best, 0.0), n, n_distinct, n_identical, pair
    )


def _tile_search(X, norms, reps, U32, eps, tol, i, j, tile, max_candidates):
    """Closest pairs of one tile of row pairs ``(i + a, j + b)`` with ``a < b``.

    Returns the largest float64 ``|cos|`` over the tile's pairs of distinct directions
    and its (smallest) pair, the largest ``|cos|`` over all its pairs, and its pairs
    of coincident directions (``1 - |cos| <= tol``), as an array of shape (k, 2).
    Indices count in ``reps``.
    """
    C = U32[i : i + tile] @ U32[j : j + tile].T
    np.abs(C, out=C)
    if i == j:
        C[np.tri(C.shape[0], C.shape[1], dtype=bool)] = -1.0  # pairs a >= b
    if C.size == 0 or C.max() < 0:
        return -1.0, None, -1.0, np.empty((0, 2), dtype=np.intp)
    # Pairs that may coincide (float32 |cos| within eps of 1 - tol) are all refined.
    band = np.float32(1.0 - tol - eps)
    s_rows, s_cols = np.nonzero(C >= band)
    C[s_rows, s_cols] = -1.0
    # The tile's largest float64 |cos| among the rest lies within 2 eps of its
    # largest float32 one.
    top32 = float(C.max())
    r_rows = r_cols = np.empty(0, dtype=np.intp)
    if top32 >= 0:
        r_rows, r_cols = np.nonzero(C >= np.float32(max(top32 - 2.0 * eps, 0.0)))
    rows = np.concatenate([s_rows, r_rows])
    cols = np.concatenate([s_cols, r_cols])
    if rows.size > max_candidates:  # ties: redo the tile in float64
        a = np.arange(i, min(i + tile, U32.shape[0]))
        b = np.arange(j, min(j + tile, U32.shape[0]))
        C64 = np.abs(_unit(X, norms, reps[a]) @ _unit(X, norms, reps[b]).T)
        valid = ~np.tri(a.size, b.size, dtype=bool) if i == j else None
        rows, cols = (
            np.nonzero(valid)
            if valid is not None
            else np.indices(C64.shape).reshape(2, -1)
        )
        cos = C64[rows, cols]
    else:
        order = np.lexsort((cols, rows))  # row-major: ties go to the smallest pair
        rows, cols = rows[order], cols[order]
        cos = np.empty(rows.size)
        for k in range(0, rows.size, 1024):
            a = reps[i + rows[k : k + 1024]]
            b = reps[j + cols[k : k + 1024]]
            cos[k : k + 1024] = np.abs(
                np.einsum("ij,ij->i", _unit(X, norms, a), _unit(X, norms, b))
            )
    same = (1.0 - cos) <= tol
    coincident = np.column_stack([i + rows[same], j + cols[same]])
    top = float(cos.max())
    if same.all():
        return -1.0, None, top, coincident
    distinct = np.flatnonzero(~same)
    k = distinct[np.argmax(cos[distinct])]
    return float(cos[k]), (int(i + rows[k]), int(j + cols[k])), top, coincident


def _canonical(X, norms, idx):
    """Unit rows with the sign fixed (first nonzero entry positive), -0.0 as 0.0."""
    U = _unit(X, norms, idx) + 0.0
    first = np.argmax(U != 0.0, axis=1)
    sign = np.where(U[np.arange(U.shape[0]), first] < 0, -1.0, 1.0)
    return U * sign[:, None] + 0.0


def _distinct_directions(X, norms):
    """Indices of the first row of each direction up to sign; the number of rows
    numerically equal to an earlier row; the number of repeated zero rows. Exact:
    rows are hashed, then compared."""
    seen_dir, seen_row = {}, {}
    reps, n_identical, n_zero = [], 0, 0
    for start in range(0, X.shape[0], _HASH_BLOCK):
        idx = np.arange(start, min(start + _HASH_BLOCK, X.shape[0]))
        block = X[idx] + 0.0  # -0.0 -> 0.0
        U = _canonical(X, norms, idx)
        zero = ~np.any(block != 0.0, axis=1)
        for k in range(idx.size):
            row = block[k].tobytes()
            key = hashlib.blake2b(row, digest_size=16).digest()
            other = seen_row.get(key)
            if other is not None and (X[other] + 0.0).tobytes() == row:
                n_identical += 1
            else:
                seen_row.setdefault(key, start + k)
            direction = U[k].tobytes()
            key = hashlib.blake2b(direction, digest_size=16).digest()
            other = seen_dir.get(key)
            if other is None or _canonical(X, norms, [other])[0].tobytes() != direction:
                seen_dir.setdefault(key, start + k)
                reps.append(start + k)
            elif zero[k]:
                n_zero += 1
    return np.asarray(reps, dtype=np.intp), n_identical, n_zero
