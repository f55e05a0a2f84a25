"""Classical solvers of the kernel system: direct (Cholesky / sparse LU) and Krylov."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseLinearSolver, check_system
from ._conditioning import REMEDY, check_solution, describe_singularity
from ._evolution import (
    check_time,
    check_time_system,
    gradient_flow_dense,
    lanczos_gradient_flow,
)
from ._spectrum import is_positive_definite


class SingularSystemWarning(UserWarning):
    """The kernel system is singular; a minimum-norm least-squares solution is used."""


def _fit_time_krylov(solver, K, Y, t, name):
    """Finite ``t`` by the Lanczos approximation of ``phi_t(K) Y`` (sparse ``K``)."""
    check_time_system(K, t, solver=name)
    coef, iterations, converged = lanczos_gradient_flow(K, Y, t)
    if not converged:
        warnings.warn(
            f"{name}: the Lanczos approximation of K^-1 (I - exp(-t K)) Y did not "
            "reach its tolerance in min(n, 1000) iterations; use a smaller `t` or "
            "`diag_reg` > 0.",
            ConvergenceWarning,
            stacklevel=3,
        )
    nnz = int(K.nnz) if sp.issparse(K) else int(K.shape[0]) ** 2
    n = K.shape[0]
    solver.dual_coef_ = coef
    solver.method_ = "lanczos"
    solver.n_iter_ = iterations
    solver.classical_cost_ = {
        "method": "lanczos",
        "iterations": iterations,
        "nnz": nnz,
        "flops": float(sum((2 * nnz + 8 * n * m) * m for m in iterations)),
    }
    check_solution(K, Y, coef, solver=name)
    return solver


class ExactSolver(BaseLinearSolver):
    """Direct solve of ``K A = Y``: one factorisation serves every right-hand side.

    Dense positive-definite matrices use a Cholesky factorisation; dense matrices that
    are not (a shallow network's sparsified kernel can be indefinite) use the symmetric
    indefinite (Bunch-Kaufman) factorisation. Sparse
    matrices use SuperLU (:func:`scipy.sparse.linalg.splu`).

    Attributes
    ----------
    dual_coef_ : ndarray of shape (n_samples, n_targets)
    method_ : {"cholesky", "ldl", "splu", "eigh", "lanczos", "lstsq", "minres"}
        "eigh" for a finite training time ``t`` on a dense matrix, "lanczos" on a
        sparse one (:func:`~qntk_sklearn.solvers.lanczos_gradient_flow`, never
        densified); the last two for
        numerically singular systems (with a :class:`SingularSystemWarning` naming
        the duplicate rows): a factorisation's solution would be dominated by the
        null space, the minimum-norm one is not.
    classical_cost_ : dict

    Examples
    --------
    >>> import numpy as np
    >>> from qntk_sklearn.solvers import ExactSolver
    >>> s = ExactSolver().fit(np.array([[2.0, 1.0], [1.0, 2.0]]), np.array([3.0, 3.0]))
    >>> s.dual_coef_.ravel(), s.method_
    (array([1., 1.]), 'cholesky')
    """

    def __init__(self):
        pass

    def fit(self, K, Y, *, k_thresh=None, t=None):
        K, Y = check_system(K, Y)
        self.time_ = t = check_time(t)
        n = K.shape[0]
        if t is not None and not sp.issparse(K):
            # Finite time, dense: one eigendecomposition (neural-tangents' route).
            self.dual_coef_ = gradient_flow_dense(K, Y, t, solver="ExactSolver")
            self.method_ = "eigh"
            self.classical_cost_ = {
                "method": "eigh",
                "nnz": int(n * n),
                "flops": float(9 * n**3 + 4 * n * n * Y.shape[1]),
            }
            check_solution(K, Y, self.dual_coef_, solver="ExactSolver")
            return self
        if t is not None:  # sparse: the Krylov approximation of the matrix function
            return _fit_time_krylov(self, K, Y, t, "ExactSolver")
        R = Y
        if sp.issparse(K):
            try:
                lu = spla.splu(K.tocsc())
            except RuntimeError:
                return self._fit_singular(K, R)
            coef = lu.solve(R)
            if check_solution(K, R, coef, solver="ExactSolver", warn=False):
                return self._fit_singular(K, R)
            self.dual_coef_ = coef
            self.method_ = "splu"
            fill = int(lu.L.nnz + lu.U.nnz)
            self.classical_cost_ = {
                "method": "splu",
                "nnz": int(K.nnz),
                "factor_nnz": fill,
                "flops": float(2 * fill * Y.shape[1]),
            }
            return self
        # Cholesky for positive-definite K; Bunch-Kaufman (LDL^T) otherwise. Either way
        # an estimate of the reciprocal condition number below n * eps means the
        # system is numerically singular (duplicate points): fall back to least squares.
        tiny = n * np.finfo(np.float64).eps
        try:
            factor = la.cho_factor(K, lower=True, check_finite=False)
            rcond, info = la.lapack.dpocon(factor[0], np.abs(K).sum(axis=0).max(), "L")
            if info != 0 or rcond < tiny:
                return self._fit_singular(K, R)
            self.dual_coef_ = la.cho_solve(factor, R, check_finite=False)
            self.method_ = "cholesky"
        except la.LinAlgError:
            with warnings.catch_warnings():
                warnings.simplefilter("error", la.LinAlgWarning)
                try:
                    self.dual_coef_ = la.solve(K, R, assume_a="sym", check_finite=False)
                except (la.LinAlgWarning, la.LinAlgError):
                    return self._fit_singular(K, R)
            self.method_ = "ldl"
        if check_solution(K, R, self.dual_coef_, solver="ExactSolver", warn=False):
            return self._fit_singular(K, R)
        self.classical_cost_ = {
            "method": self.method_,
            "nnz": int(n * n),
            "flops": float(n**3 / 3 + 2 * n * n * Y.shape[1]),
        }
        return self

    def _fit_singular(self, K, Y):
        """Minimum-norm least-squares solution of a singular system (duplicates)."""
        warnings.warn(
            "ExactSolver: the kernel matrix is numerically singular (a factorisation "
            "would return a solution dominated by its null space); using the "
            "minimum-norm least-squares solution instead."
            + describe_singularity(K)
            + " "
            + REMEDY,
            SingularSystemWarning,
            stacklevel=3,
        )
        n = K.shape[0]
        if sp.issparse(K):
            iterative = IterativeSolver(method="minres").fit(K, Y)
            self.dual_coef_ = iterative.dual_coef_
            self.method_ = "minres"
            self.classical_cost_ = iterative.classical_cost_
        else:
            # Truncated at 10 n eps (relative): the amplification of the result
            # stays below the collapse threshold 1 / (n eps) of check_solution.
            cond = 10 * n * np.finfo(np.float64).eps
            self.dual_coef_ = la.lstsq(K, Y, cond=cond, check_finite=False)[0]
            self.method_ = "lstsq"
            self.classical_cost_ = {
                "method": "lstsq",
                "nnz": int(n * n),
                "flops": float(4 * n**3 / 3),
            }
        check_solution(K, Y, self.dual_coef_, solver="ExactSolver")
        return self


class IterativeSolver(BaseLinearSolver):
    """Krylov solve of ``K A = Y``: CG where ``K`` is positive definite, else MINRES.

    Shallow networks make the paper's random sparsified kernel indefinite, where CG
    fails; MINRES only needs symmetry. Only matrix-vector products with ``K`` are used,
    so a sparse ``K`` is never densified.

    A finite training time ``t`` (see :meth:`BaseLinearSolver.fit`) uses the Lanczos
    approximation of ``K^-1 (I - exp(-t K)) Y`` instead (``method_`` "lanczos").

    Parameters
    ----------
    method : {"auto", "cg", "minres"}, default="auto"
        "auto" picks CG when ``K`` is positive definite (Gershgorin discs, then
        Lanczos) and MINRES otherwise.
    tol : float, default=1e-10
        Relative residual tolerance.
    maxiter : int or None, default=None
        Iteration cap per right-hand side (None: 10 * n).

    Attributes
    ----------
    dual_coef_ : ndarray of shape (n_samples, n_targets)
    method_ : {"cg", "minres", "lanczos"}
    n_iter_ : list of int
        Iterations per right-hand side.
    classical_cost_ : dict
        ``iterations``, ``nnz`` and ``flops`` (about 2 nnz per iteration).

    Examples
    --------
    >>> import numpy as np
    >>> from qntk_sklearn.solvers import IterativeSolver
    >>> s = IterativeSolver().fit(np.array([[2.0, 1.0], [1.0, 2.0]]), np.ones(2))
    >>> np.round(s.dual_coef_.ravel(), 6), s.method_
    (array([0.333333, 0.333333]), 'cg')
    """

    _parameter_constraints = {
        "method": [StrOptions({"auto", "cg", "minres"})],
        "tol": [Interval(Real, 0, 1, closed="neither")],
        "maxiter": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(self, method="auto", tol=1e-10, maxiter=None):
        self.method = method
        self.tol = tol
        self.maxiter = maxiter

    def fit(self, K, Y, *, k_thresh=None, t=None):
        self._validate_params()
        K, Y = check_system(K, Y)
        self.time_ = t = check_time(t)
        if t is not None:
            return _fit_time_krylov(self, K, Y, t, "IterativeSolver")
        n = K.shape[0]
        method = self.method
        if method == "auto":
            method = "cg" if is_positive_definite(K) else "minres"
        maxiter = self.maxiter or 10 * n
        scale = np.abs(K.diagonal() if sp.issparse(K) else np.diag(K)).max() or 1.0
        A = K / scale  # tolerance relative to a unit-scale matrix
        coef = np.empty_like(Y)
        iterations = []
        for j in range(Y.shape[1]):
            count = [0]

            def callback(_x, count=count):
                count[0] += 1

            if method == "cg":
                x, info = spla.cg(
                    A,
                    Y[:, j],
                    rtol=self.tol,
                    atol=0.0,
                    maxiter=maxiter,
                    callback=callback,
                )
            else:
                x, info = spla.minres(
                    A, Y[:, j], rtol=self.tol, maxiter=maxiter, callback=callback
                )
            if info != 0:
                warnings.warn(
                    f"{method.upper()} did not reach tol={self.tol} in {maxiter} "
                    f"iterations (right-hand side {j}); increase `maxiter` or `tol`.",
                    ConvergenceWarning,
                    stacklevel=2,
                )
            coef[:, j] = x / scale
            iterations.append(count[0])
        nnz = int(K.nnz) if sp.issparse(K) else n * n
        self.dual_coef_ = coef
        self.method_ = method
        self.n_iter_ = iterations
        self.classical_cost_ = {
            "method": method,
            "iterations": iterations,
            "nnz": nnz,
            "flops": float(2 * nnz * sum(iterations)),
        }
        check_solution(K, Y, coef, solver="IterativeSolver")
        return self
