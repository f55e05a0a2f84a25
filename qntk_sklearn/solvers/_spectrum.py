"""Cheap, safe spectral information of the (sparsified) kernel matrix.

Dense eigendecomposition (LAPACK) for dense matrices up to n = 4000; Gershgorin discs
and Lanczos (ARPACK through :func:`scipy.sparse.linalg.eigsh`, shift-invert for the
smallest magnitude of an indefinite matrix) for sparse matrices, which are never
densified beyond 64 x 64.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as spla

#: Largest n for which a dense matrix's spectrum comes from LAPACK (``eigvalsh``);
#: above it, Lanczos. LAPACK at n = 2000 takes under a second, ARPACK on an
#: ill-conditioned dense matrix of that size up to 30 s.
DENSE_MAX = 4000

#: Largest n for which a sparse matrix is densified for its spectrum (a 64 x 64 array
#: is negligible; larger sparse matrices are never densified).
SPARSE_DENSIFY_MAX = 64


def gershgorin_bounds(K):
    """Interval ``[lower, upper]`` that contains every eigenvalue of symmetric ``K``.

    Parameters
    ----------
    K : {ndarray, sparse matrix} of shape (n, n)

    Returns
    -------
    lower, upper : float

    Examples
    --------
    >>> import numpy as np
    >>> gershgorin_bounds(np.array([[2.0, 0.5], [0.5, 3.0]]))
    (1.5, 3.5)
    """
    if sp.issparse(K):
        K = sp.csr_matrix(K)
        diag = K.diagonal()
        radius = np.asarray(abs(K).sum(axis=1)).ravel() - np.abs(diag)
    else:
        K = np.asarray(K)
        diag = np.diag(K)
        radius = np.abs(K).sum(axis=1) - np.abs(diag)
    return float(np.min(diag - radius)), float(np.max(diag + radius))


def _eigsh_extreme(K, which, tol):
    """One extreme eigenvalue by Lanczos; the best Ritz value if ARPACK stalls."""
    n = K.shape[0]
    v0 = np.ones(n) / np.sqrt(n)
    try:
        return float(
            spla.eigsh(
                K,
                k=1,
                which=which,
                v0=v0,
                tol=tol,
                maxiter=20 * n,
                return_eigenvectors=False,
            )[0]
        )
    except spla.ArpackNoConvergence as exc:  # pragma: no cover - rare
        if len(exc.eigenvalues):
            return float(exc.eigenvalues[0])
        raise


def spectrum(K, tol=1e-8):
    """Extreme eigenvalues and the condition number of symmetric ``K``.

    Parameters
    ----------
    K : {ndarray, sparse matrix} of shape (n, n)
    tol : float, default=1e-8
        ARPACK's relative tolerance on the Lanczos estimates (unused when exact).

    Returns
    -------
    info : dict
        ``lambda_min``, ``lambda_max`` (algebraic), ``min_abs`` and ``max_abs``
        (smallest and largest eigenvalue magnitudes), ``condition_number``
        (``max_abs / min_abs``; inf if singular), ``positive_definite`` and
        ``method`` ("dense", "lanczos" or "lanczos+shift-invert").

    Examples
    --------
    >>> import numpy as np
    >>> info = spectrum(np.diag([1.0, -4.0, 2.0]))
    >>> info["condition_number"], info["positive_definite"]
    (4.0, False)
    """
    n = K.shape[0]
    if n <= (SPARSE_DENSIFY_MAX if sp.issparse(K) else DENSE_MAX):
        dense = K.toarray() if sp.issparse(K) else np.asarray(K)
        w = la.eigvalsh(dense)
        lam_min, lam_max = float(w[0]), float(w[-1])
        abs_w = np.abs(w)
        min_abs, max_abs = float(abs_w.min()), float(abs_w.max())
        method = "dense"
    else:
        lam_max = _eigsh_extreme(K, "LA", tol)
        lam_min = _eigsh_extreme(K, "SA", tol)
        max_abs = max(abs(lam_max), abs(lam_min))
        method = "lanczos"
        if lam_min > 0:
            min_abs = lam_min
        elif lam_max < 0:
            min_abs = -lam_max
        else:
            method = "lanczos+shift-invert"
            try:
                min_abs = float(
                    abs(
                        spla.eigsh(
                            sp.csc_matrix(K) if sp.issparse(K) else K,
                            k=1,
                            sigma=0.0,
                            which="LM",
                            tol=tol,
                            return_eigenvectors=False,
                        )[0]
                    )
                )
            except (RuntimeError, spla.ArpackError):  # exactly singular
                min_abs = 0.0
    kappa = np.inf if min_abs == 0 else max_abs / min_abs
    return {
        "lambda_min": lam_min,
        "lambda_max": lam_max,
        "min_abs": min_abs,
        "max_abs": max_abs,
        "condition_number": float(kappa),
        "positive_definite": bool(lam_min > 0),
        "method": method,
    }


def is_positive_definite(K):
    """Whether symmetric ``K`` is positive definite: Gershgorin first, then Lanczos.

    >>> import numpy as np
    >>> is_positive_definite(np.array([[1.0, 2.0], [2.0, 1.0]]))
    False
    """
    lower, _ = gershgorin_bounds(K)
    if lower > 0:
        return True
    return spectrum(K)["lambda_min"] > 0
