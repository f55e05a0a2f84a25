"""The linear system an estimator hands its solver: ridge and sample weights.

Two transformations of the (sparsified) training kernel ``K_tilde``, each a pure
function in the manner of ``pennylane.kernels.postprocessing``:

* :func:`ridge` is neural-tangents' ``diag_reg``: ``K + diag_reg * mean(diag K) * I``;
* :func:`weighted_system` is weighted least squares as in
  :class:`sklearn.kernel_ridge.KernelRidge`: with ``S = diag(sqrt(w))`` the solver
  sees ``S K S + lambda I`` and ``S Y``, the dual coefficients are ``S`` times its
  solution, and a query row ``k*`` enters as ``k* S``. This is the same as solving
  ``(K + lambda W^-1) a = Y`` (KernelRidge), and at finite training time it is
  gradient flow on ``sum_i w_i (f(x_i) - y_i)^2``. Both keep the sparsity pattern, so
  the quantum solvers invert ``S K_tilde S + lambda I`` exactly as they would
  ``K_tilde``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def ridge(K, diag_reg, sample_weight=None):
    """The ridge ``diag_reg * mean(diag K)`` (weighted mean with ``sample_weight``).

    neural-tangents' convention (``diag_reg_absolute_scale=False``): ``diag_reg``
    is relative to the mean of the kernel's diagonal, so it does not depend on the
    kernel's overall scale (which grows with depth). With sample weights the mean is
    weighted, so that an integer weight is the same as repeating the point.

    Parameters
    ----------
    K : {ndarray, sparse matrix} of shape (n, n)
    diag_reg : float
        At least 0.
    sample_weight : ndarray of shape (n,) or None

    Returns
    -------
    lam : float

    Examples
    --------
    >>> import numpy as np
    >>> ridge(np.diag([1.0, 3.0]), 0.5)
    1.0
    >>> ridge(np.diag([1.0, 3.0]), 0.5, np.array([3.0, 1.0]))
    0.75
    """
    if diag_reg == 0:
        return 0.0
    diag = np.asarray(K.diagonal() if sp.issparse(K) else np.diag(K), dtype=float)
    mean = float(np.average(diag, weights=sample_weight))
    return float(diag_reg) * mean


def weighted_system(K, Y, sample_weight=None, lam=0.0):
    """``(S K S + lam I, S Y, s)`` with ``S = diag(s)``, ``s = sqrt(sample_weight)``.

    Parameters
    ----------
    K : {ndarray, sparse matrix} of shape (n, n)
        Symmetric; stays sparse when sparse (same pattern).
    Y : ndarray of shape (n, n_targets)
    sample_weight : ndarray of shape (n,) or None
        Positive weights; None means all ones (then ``s`` is None and ``K`` is only
        shifted by ``lam``).
    lam : float, default=0.0
        Ridge added to the diagonal after weighting.

    Returns
    -------
    K_sys : {ndarray, sparse matrix} of shape (n, n)
    Y_sys : ndarray of shape (n, n_targets)
    s : ndarray of shape (n,) or None
        Column scale of query rows: ``decision = (K_star * s) @ solution``.

    Examples
    --------
    >>> import numpy as np
    >>> K = np.array([[2.0, 1.0], [1.0, 2.0]])
    >>> K_sys, Y_sys, s = weighted_system(K, np.ones((2, 1)), np.array([4.0, 1.0]), 1.0)
    >>> K_sys
    array([[9., 2.],
           [2., 3.]])
    >>> Y_sys.ravel(), s
    (array([2., 1.]), array([2., 1.]))
    """
    s = None if sample_weight is None else np.sqrt(np.asarray(sample_weight, float))
    if s is not None:
        if sp.issparse(K):
            S = sp.diags(s)
            K = (S @ K @ S).tocsr()
        else:
            K = K * s[:, None] * s[None, :]
        Y = Y * s[:, None]
    if lam:
        n = K.shape[0]
        if sp.issparse(K):
            K = (K + lam * sp.identity(n, format="csr")).tocsr()
        else:
            K = K + lam * np.eye(n)
    return K, Y, s
