"""Sparsification of the kernel matrix: patterns first, then only their entries.

Each function is one transformation with a stated invariant, in the manner of
``pennylane.kernels.postprocessing``. None of them evaluates a kernel: a pattern is a
set of (row, column) pairs, and :func:`sparse_from_pairs` assembles the sparsified
kernel from values computed elsewhere (by the kernel's ``pairs`` method), so no
n x n dense array is ever formed.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from .._matrix import max_row_nonzeros  # noqa: F401 (re-exported)


def _check_factor(sparsity_factor):
    if (
        isinstance(sparsity_factor, bool)
        or not isinstance(sparsity_factor, numbers.Real)
        or not math.isfinite(sparsity_factor)
        or sparsity_factor <= 0
    ):
        raise ValueError(
            "`sparsity_factor` must be a positive finite number; got "
            f"{sparsity_factor!r}."
        )


def random_pattern(groups, sparsity_factor=1.0, random_state=None):
    """The paper's random sparsity pattern, as the lower triangle of a symmetric mask.

    For each row ``i`` of group ``c`` (its class), every other member of ``c`` is drawn
    independently with probability ``p_c = min(sparsity_factor * ln n / n_c, 1)``;
    entries between different groups are never drawn. The drawn entries of the lower
    triangle are kept and mirrored, and the diagonal is always in the pattern. For two
    balanced classes and ``sparsity_factor=1`` this is exactly the paper's rule
    (``p = 2 ln n / n`` over all columns, then zeroing between-class entries) and gives
    about ``sparsity_factor * ln n`` off-diagonal nonzeros per row.

    Parameters
    ----------
    groups : array-like of shape (n_samples,)
        Group of each training point (the class label; a constant for regression).
    sparsity_factor : float, default=1.0
        Expected off-diagonal nonzeros per row, in units of ``ln n``.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    rows, cols : ndarray of int of shape (n_pairs,)
        The pattern's entries with ``rows >= cols`` (diagonal included), sorted; the
        full symmetric pattern is these plus their mirror images.

    Examples
    --------
    >>> import numpy as np
    >>> rows, cols = random_pattern(np.repeat([0, 1], 50), random_state=0)
    >>> bool(np.all(rows >= cols)), int(np.sum(rows == cols))
    (True, 100)
    >>> groups = np.repeat([0, 1], 50)
    >>> bool(np.all(groups[rows] == groups[cols]))
    True
    """
    _check_factor(sparsity_factor)
    groups = np.asarray(groups)
    n = groups.shape[0]
    rng = check_random_state(random_state)
    log_n = math.log(max(n, 2))
    lower_rows, lower_cols = [np.arange(n)], [np.arange(n)]
    for label in np.unique(groups):
        members = np.flatnonzero(groups == label)
        size = members.size
        if size < 2:
            continue
        p = min(sparsity_factor * log_n / size, 1.0)
        # For each member, draw m ~ Binomial(n_c, p) columns uniformly within the group,
        # as the paper does. Columns are drawn with replacement (vectorised) and repeats
        # merged below; with m ~ ln n << n_c the difference from drawing without
        # replacement is a fraction of about m / n_c of the entries.
        counts = rng.binomial(size, p, size=size)
        r = np.repeat(np.arange(size), counts)
        c = rng.randint(0, size, size=r.size)
        r, c = members[r], members[c]
        keep = r > c  # lower triangle of the drawn matrix
        lower_rows.append(r[keep])
        lower_cols.append(c[keep])
    rows = np.concatenate(lower_rows).astype(np.intp)
    cols = np.concatenate(lower_cols).astype(np.intp)
    # Unique, sorted pairs (a pair can be drawn from both of its rows).
    key = np.unique(rows.astype(np.int64) * n + cols)
    return (key // n).astype(np.intp), (key % n).astype(np.intp)


def diagonal_pattern(n_samples):
    """Pattern of the diagonal NTK: only the ``n`` diagonal entries.

    >>> diagonal_pattern(3)
    (array([0, 1, 2]), array([0, 1, 2]))
    """
    idx = np.arange(int(n_samples), dtype=np.intp)
    return idx, idx.copy()


def sparse_from_pairs(rows, cols, values, n_samples):
    """Symmetric CSR matrix from lower-triangle entries (diagonal included).

    Parameters
    ----------
    rows, cols : ndarray of int of shape (n_pairs,)
        Entries with ``rows >= cols``.
    values : ndarray of shape (n_pairs,)
    n_samples : int

    Returns
    -------
    K_sparse : scipy.sparse.csr_matrix of shape (n_samples, n_samples)
        ``K_sparse[i, j] = K_sparse[j, i] = value`` for every given pair.

    Examples
    --------
    >>> import numpy as np
    >>> K = sparse_from_pairs(np.array([0, 1, 1]), np.array([0, 0, 1]),
    ...                       np.array([2.0, 0.5, 3.0]), 2)
    >>> K.toarray()
    array([[2. , 0.5],
           [0.5, 3. ]])
    """
    rows = np.asarray(rows, dtype=np.intp)
    cols = np.asarray(cols, dtype=np.intp)
    values = np.asarray(values, dtype=np.float64)
    if np.any(rows < cols):
        raise ValueError("`rows` must be >= `cols`: pass the lower triangle only.")
    off = rows != cols
    all_rows = np.concatenate([rows, cols[off]])
    all_cols = np.concatenate([cols, rows[off]])
    all_vals = np.concatenate([values, values[off]])
    K = sp.csr_matrix((all_vals, (all_rows, all_cols)), shape=(n_samples, n_samples))
    K.sort_indices()
    return K


def class_thresholds(K_subset, groups_subset, percentile=50.0):
    """Per-class threshold: a percentile of the off-diagonal in-class kernel values.

    Not the authors' rule (see :func:`paper_thresholds`, which takes the percentile
    over the whole subset kernel, zeros outside the class block included); kept as a
    variant that thresholds on the in-class values alone.

    Parameters
    ----------
    K_subset : ndarray of shape (m, m)
        Exact kernel on the subset.
    groups_subset : ndarray of shape (m,)
    percentile : float, default=50.0

    Returns
    -------
    thresholds : dict
        ``{class: threshold}``; classes with fewer than two members in the subset get
        ``-inf`` (nothing is dropped).

    Examples
    --------
    >>> import numpy as np
    >>> K = np.array([[1.0, 0.2, 0.0], [0.2, 1.0, 0.0], [0.0, 0.0, 1.0]])
    >>> class_thresholds(K, np.array([0, 0, 1]))
    {0: 0.2, 1: -inf}
    """
    if not 0 <= percentile <= 100:
        raise ValueError(f"`percentile` must be in [0, 100]; got {percentile!r}.")
    K_subset = np.asarray(K_subset, dtype=np.float64)
    groups_subset = np.asarray(groups_subset)
    out = {}
    for label in np.unique(groups_subset):
        idx = np.flatnonzero(groups_subset == label)
        block = K_subset[np.ix_(idx, idx)]
        off = block[~np.eye(idx.size, dtype=bool)]
        key = label.item() if hasattr(label, "item") else label
        out[key] = float(np.percentile(off, percentile)) if off.size else -np.inf
    return out


def balanced_subset(groups, size=16, random_state=None):
    """A class-balanced subset: ``size // n_classes`` indices per class (at least 2).

    Classes with fewer members contribute all of them. The paper's CNN rule computes
    its thresholds on such a subset of 16 training examples.

    Examples
    --------
    >>> import numpy as np
    >>> idx = balanced_subset(np.repeat([0, 1], 20), 16, random_state=0)
    >>> idx.size, int(np.sum(idx < 20))
    (16, 8)
    """
    groups = np.asarray(groups)
    rng = check_random_state(random_state)
    labels = np.unique(groups)
    per_class = max(2, int(size) // max(labels.size, 1))
    picked = [
        rng.choice(members, size=min(per_class, members.size), replace=False)
        for members in (np.flatnonzero(groups == label) for label in labels)
    ]
    return np.sort(np.concatenate(picked)) if picked else np.empty(0, dtype=np.intp)


def paper_thresholds(K_subset, groups_subset, percentile=90.0):
    """The authors' CNN thresholds and clipping scale, from a subset's exact kernel.

    For each class ``c``, ``t_c = np.percentile(|K o M_c|, percentile)`` over the
    WHOLE subset kernel, with ``M_c`` the mask of the off-diagonal entries between two
    members of ``c`` (the zeros outside that block count, so for a balanced binary
    16-example subset the 90th percentile is about the 54th percentile of the in-class
    values). ``k_thresh``, the scale that clips ``|k*>``, is the largest off-diagonal
    ``|K|`` of the subset. In-class entries are then kept where ``K > t_c``
    (:func:`threshold_entries` with ``strict=True``). This is the rule of the authors'
    reference notebook; :func:`class_thresholds` is a different one (a percentile of
    the in-class values alone).

    Parameters
    ----------
    K_subset : ndarray of shape (m, m)
        Exact kernel on the subset (the paper: 16 class-balanced training examples).
    groups_subset : ndarray of shape (m,)
    percentile : float, default=90.0

    Returns
    -------
    thresholds : dict
        ``{class: t_c}``.
    k_thresh : float
        Largest off-diagonal ``|K_subset|`` (the largest ``|K|`` if ``m < 2``).

    Examples
    --------
    >>> import numpy as np
    >>> K = np.array([[4.0, 3.0, 0.5], [3.0, 4.0, 0.2], [0.5, 0.2, 4.0]])
    >>> thresholds, k_thresh = paper_thresholds(K, np.array([0, 0, 1]))
    >>> {c: round(t, 3) for c, t in thresholds.items()}, k_thresh
    ({0: 3.0, 1: 0.0}, 3.0)
    """
    if not 0 <= percentile <= 100:
        raise ValueError(f"`percentile` must be in [0, 100]; got {percentile!r}.")
    K_subset = np.asarray(K_subset, dtype=np.float64)
    groups_subset = np.asarray(groups_subset)
    off = ~np.eye(K_subset.shape[0], dtype=bool)
    out = {}
    for label in np.unique(groups_subset):
        member = groups_subset == label
        mask = member[:, None] & member[None, :] & off
        key = label.item() if hasattr(label, "item") else label
        out[key] = float(np.percentile(np.abs(K_subset * mask), percentile))
    values = np.abs(K_subset[off]) if K_subset.shape[0] > 1 else np.abs(K_subset)
    k_thresh = float(values.max()) if values.size else math.nan
    return out, k_thresh


def threshold_entries(rows, cols, values, groups, thresholds, *, strict=False):
    """Drop off-diagonal entries below their class's threshold.

    The diagonal is always kept. Entries are kept where ``value >= t`` (or
    ``value > t`` with ``strict=True``, the rule of the authors' notebook, see
    :func:`paper_thresholds`). Returns the kept ``(rows, cols, values)``.

    Examples
    --------
    >>> import numpy as np
    >>> r, c, v = threshold_entries(np.array([0, 1, 1]), np.array([0, 0, 1]),
    ...     np.array([1.0, 0.1, 1.0]), np.array([0, 0]), {0: 0.2})
    >>> r, c, v
    (array([0, 1]), array([0, 1]), array([1., 1.]))
    """
    groups = np.asarray(groups)
    limit = np.array(
        [
            thresholds.get(g.item() if hasattr(g, "item") else g, -np.inf)
            for g in groups[rows]
        ]
    )
    keep = (rows == cols) | ((values > limit) if strict else (values >= limit))
    return rows[keep], cols[keep], values[keep]


def paper_conditioning_factor(n_samples):
    """The paper's diagonal conditioning factor ``f = 0.76 (ln n)^0.9`` (CNN variant).

    >>> round(paper_conditioning_factor(256), 3)
    3.551
    """
    return 0.76 * math.log(max(n_samples, 2)) ** 0.9


def condition_diagonal(K_sparse, factor):
    """Return ``K_sparse + factor * diag(K_sparse)``; off-diagonal entries unchanged.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> K = sp.csr_matrix(np.array([[1.0, 0.5], [0.5, 2.0]]))
    >>> condition_diagonal(K, 1.0).toarray()
    array([[2. , 0.5],
           [0.5, 4. ]])
    """
    if factor < 0 or not math.isfinite(factor):
        raise ValueError(
            f"`factor` must be a non-negative finite number; got {factor!r}."
        )
    K_sparse = sp.csr_matrix(K_sparse)
    return (K_sparse + factor * sp.diags(K_sparse.diagonal())).tocsr()
