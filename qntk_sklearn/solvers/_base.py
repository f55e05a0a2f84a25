"""The solver slot: what every linear-system solver of the package provides.

An estimator hands its solver the sparsified training kernel ``K_tilde`` and the
(centred) targets ``Y``; the solver "inverts" the system, and later turns rows of the
test kernel ``K_star`` into decision values. Classical solvers compute
``K_star @ K_tilde^-1 Y``; quantum solvers return what the quantum algorithm would
output (an emulated QSVT state and a sampled overlap readout).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

#: Relative asymmetry ``max|K - K^T| / max|K|`` tolerated in a kernel matrix: a few
#: hundred roundings of float64, far below any asymmetry that changes a solve.
SYMMETRY_TOL = 1e-10


def _max_abs_entry(K):
    if sp.issparse(K):
        return float(np.abs(K.data).max()) if K.nnz else 0.0
    return float(np.abs(K).max()) if K.size else 0.0


def check_symmetric(K, name="K"):
    """Raise ValueError unless ``K`` is symmetric to ``SYMMETRY_TOL`` (relative).

    The one symmetry check of the package: every solver (through
    :func:`check_system`) and the estimators' ``architecture="precomputed"`` call it.
    A kernel matrix is symmetric by definition; solving with a non-symmetric one
    silently depends on which triangle a factorisation reads.

    Parameters
    ----------
    K : {ndarray, sparse matrix} of shape (n, n)
    name : str, default="K"
        How the matrix is called in the error message.

    Examples
    --------
    >>> import numpy as np
    >>> check_symmetric(np.array([[1.0, 0.0], [1.0, 1.0]]))
    Traceback (most recent call last):
    ...
    ValueError: `K` must be symmetric: max |K - K^T| = 1 exceeds SYMMETRY_TOL ...
    """
    diff = _max_abs_entry(K - K.T)
    scale = _max_abs_entry(K)
    if diff > SYMMETRY_TOL * max(scale, np.finfo(np.float64).tiny):
        raise ValueError(
            f"`{name}` must be symmetric: max |{name} - {name}^T| = {diff:.3g} exceeds "
            f"SYMMETRY_TOL = {SYMMETRY_TOL:g} times max |{name}| (= {scale:.3g}). "
            "A kernel matrix is symmetric; symmetrise it, e.g. "
            f"({name} + {name}.T) / 2."
        )


def check_system(K, Y):
    """Validate a linear system ``K A = Y``; return ``(K, Y)`` with ``Y`` 2-D float64.

    ``K`` must be square, finite and symmetric (:func:`check_symmetric`); it stays
    sparse (CSR) when sparse, dense float64 otherwise.
    """
    if sp.issparse(K):
        K = sp.csr_matrix(K, dtype=np.float64)
        data = K.data
    else:
        K = np.asarray(K, dtype=np.float64)
        data = K
    if K.ndim != 2 or K.shape[0] != K.shape[1]:
        raise ValueError(f"`K` must be a square matrix; got shape {K.shape}.")
    if not np.all(np.isfinite(data)):
        raise ValueError("`K` must contain only finite values; got NaN or inf.")
    check_symmetric(K)
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.ndim != 2 or Y.shape[0] != K.shape[0]:
        raise ValueError(
            f"`Y` must have {K.shape[0]} rows to match `K` of shape {K.shape}; "
            f"got shape {Y.shape}."
        )
    if not np.all(np.isfinite(Y)):
        raise ValueError("`Y` must contain only finite values; got NaN or inf.")
    return K, Y


class BaseLinearSolver(BaseEstimator):
    """Base class of the linear-system solvers.

    A solver is a scikit-learn-style object: its constructor only stores parameters, so
    an estimator's ``solver`` parameter can be tuned by ``GridSearchCV``
    (``solver__shots``, ``solver__tol``). Subclasses implement :meth:`fit`, which must
    set ``dual_coef_`` (ndarray of shape (n_samples, n_targets)), and may override
    :meth:`decision_function` (the default is ``K_star @ dual_coef_``). Every fitted
    solver has the attributes below.

    Attributes
    ----------
    dual_coef_ : ndarray of shape (n_samples, n_targets)
        The solution used for prediction (for quantum solvers: the vector the emulated
        quantum state is proportional to, rescaled to estimate ``K^-1 Y``).
    classical_cost_ : dict
        What a classical computer spends on this solve, e.g. ``{"method": "cg",
        "iterations": [...], "nnz": ..., "matvec_flops": ...}``.
    time_ : float or None
        The training time ``t`` the solution is for (None: infinite).

    A solution dominated by the null space of a numerically singular ``K`` (duplicate
    training points) is never returned silently: :func:`check_solution` warns with
    the cause and the remedy (or the solver falls back to a minimum-norm solution,
    with a warning).
    """

    #: Whether decision values are random (sampled measurements).
    _stochastic = False

    def fit(self, K, Y, *, k_thresh=None, t=None):  # pragma: no cover - abstract
        """Solve ``K A = Y`` (or prepare to). Returns ``self``.

        Parameters
        ----------
        K : {ndarray, sparse matrix} of shape (n_samples, n_samples)
            The (sparsified) training kernel.
        Y : ndarray of shape (n_samples, n_targets)
            Right-hand sides (one per class, centred).
        k_thresh : float or None
            The paper's clipping scale for preparing ``|k*>``; only quantum solvers use
            it.
        t : float or None
            Finite training time: ``A = K^-1 (I - exp(-t K)) Y``, the coefficients of
            the network trained by gradient flow ``dF/ds = -K (F - Y)`` for a time
            ``t`` (see :mod:`qntk_sklearn.solvers._evolution`); None is ``t = inf``,
            ``A = K^-1 Y``. Solvers store it as ``time_``.
        """
        raise NotImplementedError

    def decision_function(self, K_star):
        """Decision values ``K_star @ dual_coef_`` of shape (n_queries, n_targets).

        Parameters
        ----------
        K_star : ndarray of shape (n_queries, n_samples)
            Kernel between query points and training points.
        """
        check_is_fitted(self, "dual_coef_")
        K_star = np.asarray(K_star, dtype=np.float64)
        if K_star.ndim != 2 or K_star.shape[1] != self.dual_coef_.shape[0]:
            raise ValueError(
                f"`K_star` must have shape (n_queries, {self.dual_coef_.shape[0]}); "
                f"got {K_star.shape}."
            )
        return K_star @ self.dual_coef_
