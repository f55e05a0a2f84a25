"""Finite training time: the network trained by gradient flow for a time ``t``.

Gradient flow on the squared loss with the NTK ``K`` moves the training outputs as
``d f / ds = -K (f - y)`` (the estimators fold neural-tangents' loss normalisation and
learning rate into ``t``; see :class:`~qntk_sklearn.QuantumNTKClassifier`). Started
from ``f = 0``, the prediction at time ``t`` is ``k*^T A(t)`` with

    ``A(t) = K^-1 (I - exp(-t K)) Y = phi_t(K) Y``,  ``phi_t(x) = (1 - exp(-t x)) / x``,

which tends to ``K^-1 Y`` as ``t -> inf``. ``phi_t`` is bounded by ``t`` on
``[0, inf)``, so a finite ``t`` is also a regulariser: no eigenvalue is divided by
less than ``1 / t``. This module computes ``phi_t(K) Y`` three ways:

* :func:`gradient_flow_dense`: an eigendecomposition (dense ``K``), neural-tangents'
  computation;
* :func:`lanczos_gradient_flow`: the Krylov (Lanczos) approximation of the matrix
  function, with products ``K @ v`` only (sparse ``K``, never densified; also the
  iterative solver's route);
* :func:`gradient_flow_polynomial`: the bounded polynomial a QSVT circuit would apply
  (the emulated quantum solver).

All three need ``K`` positive semi-definite (up to rounding): along a negative
eigenvalue gradient flow diverges (:func:`check_time_system`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Real

import numpy as np
import numpy.polynomial.chebyshev as cheb
import scipy.linalg as la
from scipy import special

from ._polynomial import MAX_DEGREE, chebyshev_apply, chebyshev_sup_bound
from ._spectrum import gershgorin_bounds, spectrum

#: Eigenvalues down to ``-PSD_TOL * max|lambda|`` count as rounding of a positive
#: semi-definite matrix (finite ``t`` refuses anything more negative).
PSD_TOL = 1e-8


def check_time(t, name="t"):
    """Validate a training time: a positive finite real number, or None (infinity).

    >>> check_time(None), check_time(2)
    (None, 2.0)
    """
    if t is None:
        return None
    if (
        isinstance(t, bool)
        or not isinstance(t, Real)
        or not (math.isfinite(t) and t > 0)
    ):
        raise ValueError(
            f"`{name}` must be a positive finite number or None (infinite training "
            f"time); got {t!r}."
        )
    return float(t)


def check_time_system(K, t, *, solver):
    """Spectral interval ``(lower, upper)`` of ``K`` for finite ``t``, which needs
    ``K`` positive semi-definite: ValueError when ``lambda_min < -PSD_TOL max|lambda|``.

    Gershgorin's discs first (free; they certify the near-diagonal kernels of deep
    networks), then :func:`spectrum` (Lanczos for a large sparse ``K``).

    Returns
    -------
    lower : float
        A lower bound on the spectrum, at least ``-PSD_TOL * upper``.
    upper : float
        An upper bound on the spectrum (Gershgorin).
    """
    lower, upper = gershgorin_bounds(K)
    if lower >= 0:
        return lower, upper
    info = spectrum(K)
    lam_min, max_abs = info["lambda_min"], info["max_abs"]
    if lam_min < -PSD_TOL * max_abs:
        diag = K.diagonal() if hasattr(K, "diagonal") else np.diag(K)
        mean_diag = float(np.mean(diag)) if np.size(diag) else 0.0
        need = -lam_min / mean_diag if mean_diag > 0 else float("nan")
        raise ValueError(
            f"{solver}: a finite training time `t` needs a positive semi-definite "
            f"kernel, but this one is indefinite (lambda_min = {lam_min:.3g}, "
            f"max |lambda| = {max_abs:.3g}): gradient flow diverges along its "
            "negative eigenvalues. A shallow network's randomly sparsified kernel is "
            "indefinite: use a deeper network (`depth`), sparsity='none', or "
            f"a ridge of more than {need:.2g} times mean(diag K) (`diag_reg` on the "
            "estimator, added to its own) that makes it positive definite; or t=None."
        )
    # Ritz values lie inside the spectrum: step a little beyond the estimate.
    lam_low = min(lam_min, 0.0) - PSD_TOL * max_abs
    return max(lower, lam_low), upper


def phi(lam, t, floor=0.0):
    """``phi_t(lambda) = (1 - exp(-t lambda)) / lambda``, ``t`` at ``lambda <= floor``.

    Eigenvalues at or below ``floor`` (rounding level, see :func:`rounding_floor`;
    negative ones included) are numerically zero: their value is the limit ``t``.
    Evaluating ``phi_t`` at a rounding error instead would be meaningless once
    ``t * floor`` is large (deep kernels reach 1e26), and for a negative rounding
    error it overflows.

    >>> float(phi(0.0, 3.0)), round(float(phi(1.0, 2.0)), 6)
    (3.0, 0.864665)
    >>> float(phi(-1e-9, 3.0, floor=1e-8))
    3.0
    """
    lam = np.asarray(lam, dtype=np.float64)
    zero = lam <= floor
    safe = np.where(zero, 1.0, lam)
    return np.where(zero, t, -np.expm1(-t * safe) / safe)


def rounding_floor(max_abs, n):
    """``n eps max|lambda|``: eigenvalue magnitudes below it are rounding noise."""
    return max(int(n), 1) * np.finfo(np.float64).eps * float(max_abs)


def gradient_flow_dense(K, Y, t, *, solver="ExactSolver"):
    """``phi_t(K) Y`` through the eigendecomposition of dense symmetric ``K``.

    The computation of neural-tangents' ``gradient_descent_mse_ensemble``, except
    that eigenvalues within rounding of zero (below ``n eps max|lambda|``, and
    negative ones down to ``-PSD_TOL max|lambda|``) use the limit ``phi_t(0) = t``
    where neural-tangents zeroes the negative ones; any more negative eigenvalue is
    an error (:func:`check_time_system`).

    Examples
    --------
    >>> import numpy as np
    >>> K = np.diag([1.0, 4.0])
    >>> np.round(gradient_flow_dense(K, np.ones(2), 0.5).ravel(), 6)
    array([0.393469, 0.216166])
    """
    K = np.asarray(K, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    w, V = la.eigh(K, check_finite=False)
    max_abs = float(np.abs(w).max()) if w.size else 0.0
    if w.size and w[0] < -PSD_TOL * max_abs:
        check_time_system(K, t, solver=solver)  # raises with the full message
    values = phi(w, t, rounding_floor(max_abs, w.size))
    return V @ (values.reshape(-1, *([1] * (Y.ndim - 1))) * (V.T @ Y))


def lanczos_gradient_flow(K, Y, t, *, tol=1e-12, max_iter=None):
    """``phi_t(K) Y`` by the Lanczos method, with products ``K @ v`` only.

    For each column ``y``: an orthonormal basis ``Q_m`` of the Krylov space
    ``span(y, K y, ..., K^{m-1} y)`` (full reorthogonalisation), the tridiagonal
    ``T_m = Q_m^T K Q_m``, and the approximation ``||y|| Q_m phi_t(T_m) e_1``,
    refined until it changes by less than ``tol`` (relative) over five steps. This
    is the standard Krylov approximation of a matrix function (Saad 1992; Higham,
    *Functions of Matrices*, ch. 13). Like conjugate gradients, and unlike a
    polynomial fixed in advance, it adapts to the spectrum: an isolated eigenvalue
    (0 for duplicate points, where ``phi_t = t``) or a large ``t * ||K||`` costs a
    few iterations, not a degree of ``sqrt(t ||K||)``. Memory: ``m`` vectors of
    length ``n``.

    Parameters
    ----------
    K : {ndarray, sparse matrix} of shape (n, n)
        Symmetric positive semi-definite.
    Y : ndarray of shape (n,) or (n, n_targets)
    t : float
    tol : float, default=1e-12
    max_iter : int or None, default=None
        Krylov dimension cap per column (None: ``min(n, 1000)``).

    Returns
    -------
    coef : ndarray of the shape of ``Y``
    iterations : list of int
        Krylov dimension used per column.
    converged : bool

    Examples
    --------
    >>> import numpy as np
    >>> K = np.diag([1.0, 4.0, 0.0])
    >>> coef, _, ok = lanczos_gradient_flow(K, np.ones(3), 0.5)
    >>> np.round(coef, 6), ok
    (array([0.393469, 0.216166, 0.5     ]), True)
    """
    Y = np.asarray(Y, dtype=np.float64)
    squeeze = Y.ndim == 1
    Y2 = Y[:, None] if squeeze else Y
    n = K.shape[0]
    m_max = min(n, 1000) if max_iter is None else min(n, int(max_iter))
    out = np.zeros_like(Y2)
    iterations, converged = [], True
    for j in range(Y2.shape[1]):
        b = Y2[:, j]
        beta0 = float(np.linalg.norm(b))
        if beta0 == 0:
            iterations.append(0)
            continue
        Q = np.empty((n, m_max))
        Q[:, 0] = b / beta0
        alphas, betas = [], []
        coef_prev = None
        done = False
        for k in range(m_max):
            w = np.asarray(K @ Q[:, k]).ravel()
            alpha = float(Q[:, k] @ w)
            # Two passes of classical Gram-Schmidt against the whole basis.
            for _ in range(2):
                w -= Q[:, : k + 1] @ (Q[:, : k + 1].T @ w)
            beta = float(np.linalg.norm(w))
            alphas.append(alpha)
            size = k + 1
            invariant = beta <= 1e-14 * max(abs(a) for a in alphas) or size == m_max
            if size % 5 == 0 or invariant:
                theta, U = la.eigh_tridiagonal(np.array(alphas), np.array(betas))
                floor = rounding_floor(np.abs(theta).max(), n)
                coef = beta0 * (U @ (phi(theta, t, floor) * U[0]))
                if invariant or (
                    coef_prev is not None
                    and np.linalg.norm(coef - np.append(coef_prev, np.zeros(5)))
                    <= tol * np.linalg.norm(coef)
                ):
                    out[:, j] = Q[:, :size] @ coef
                    iterations.append(size)
                    done = not (size == m_max and not invariant)
                    break
                coef_prev = coef
            betas.append(beta)
            Q[:, k + 1] = w / beta
        converged &= done
    return (out[:, 0] if squeeze else out), iterations, converged


@dataclass(frozen=True, eq=False)
class GradientFlowPolynomial:
    """A polynomial ``P(x) ≈ x_scale * phi_tau(x)`` with ``|P| <= 1`` on [-1, 1].

    Built by :func:`gradient_flow_polynomial`, the finite-time counterpart of
    :class:`~qntk_sklearn.solvers.InversePolynomial` (same attributes where they
    apply, so the QSVT solver and the resource estimate treat both alike).

    Attributes
    ----------
    tau : float
        Time in units of the block-encoded matrix: ``t * alpha``.
    epsilon : float
        Relative error bound on [0, 1]: ``|P(x) / x_scale - phi_tau(x)| <= epsilon
        phi_tau(x)``.
    degree : int
        Number of block-encoding queries of one circuit.
    coef : ndarray of shape (degree + 1,)
        Chebyshev coefficients of ``P``.
    x_scale : float
        ``1 / max_{[-1,1]} |P / x_scale|`` (a bound): about ``1 / (e^2 tau)`` at most.
    truncation_error, window_error : float
        The two parts of the error budget (absolute, relative to ``phi_tau(1)``;
        relative): the Chebyshev series cut, and the smooth window that keeps ``P``
        bounded on the negative half-axis.
    """

    tau: float
    epsilon: float
    degree: int
    coef: np.ndarray = field(repr=False)
    x_scale: float
    truncation_error: float
    window_error: float

    #: The inverse polynomial's condition bound has no counterpart here.
    kappa = math.inf

    def __call__(self, x):
        """Evaluate ``P`` at scalar or array ``x``."""
        return cheb.chebval(np.asarray(x, dtype=np.float64), self.coef)

    def apply(self, A, Y):
        """``P(A) @ Y`` for symmetric ``A`` with ``||A|| <= 1`` (sparse products)."""
        return chebyshev_apply(self.coef, A, Y)


def _log_target(x, tau, c, delta):
    """``log |phi_tau(x) w(x)|`` with the window ``w(x) = Phi(sqrt(2) c (x + delta))``
    (``Phi``: the normal CDF), computed in logarithms so that ``exp(tau |x|)`` and
    the window's Gaussian tail never overflow or underflow separately."""
    x = np.asarray(x, dtype=np.float64)
    ax = np.abs(x)
    small = ax * tau < 1e-8
    safe = np.where(small, 1.0, ax)
    with np.errstate(divide="ignore"):
        log_phi_pos = np.log(-np.expm1(-tau * safe)) - np.log(safe)  # x > 0
        log_phi_neg = tau * safe + np.log(-np.expm1(-tau * safe)) - np.log(safe)
    log_phi = np.where(x >= 0, log_phi_pos, log_phi_neg)
    log_phi = np.where(small, math.log(tau), log_phi)
    if c is None:
        return log_phi
    return log_phi + special.log_ndtr(math.sqrt(2.0) * c * (x + delta))


def _window(tau, epsilon):
    """Window ``(c, delta)`` (None when ``tau <= 1``), its error, a degree estimate."""
    if tau <= 1.0:  # |phi_tau| <= e - 1 on [-1, 0]: no window needed
        estimate = int(math.ceil(2 * math.e * tau + 2 * math.log(4.0 / epsilon))) + 8
        return None, None, 0.0, estimate
    delta = 1.0 / tau
    c = tau * max(float(special.erfcinv(epsilon)), 0.5)
    window_error = 0.5 * float(special.erfc(c * delta))
    spread = 2 * math.sqrt(2.0) * c * math.sqrt(math.log(4.0 / epsilon))
    estimate = int(math.ceil(math.e * tau / 2 + spread)) + 16
    return c, delta, window_error, estimate


def gradient_flow_degree_estimate(tau, epsilon):
    """A-priori estimate (an upper bound in practice) of the degree of
    :func:`gradient_flow_polynomial`: ``O(tau sqrt(log(1 / epsilon)))``.

    >>> gradient_flow_degree_estimate(20.0, 1e-3) >= gradient_flow_polynomial(
    ...     20.0, 1e-3).degree
    True
    """
    return _window(check_time(tau, "tau"), epsilon)[3]


def gradient_flow_polynomial(tau, epsilon, max_degree=MAX_DEGREE):
    """The bounded polynomial of ``phi_tau(x) = (1 - exp(-tau x)) / x`` for QSVT.

    On the spectrum of a positive semi-definite block-encoded matrix, ``[0, 1]``,
    ``phi_tau`` decreases from ``tau`` to ``1 - exp(-tau)``: bounded by ``tau``,
    whatever the condition number, so (unlike ``1/x``) its degree does not grow with
    ``kappa``. On ``[-1, 0)``, where a block encoding also requires ``|P| <= 1``,
    ``phi_tau`` grows like ``exp(tau |x|)``; for ``tau > 1`` the target is therefore
    ``phi_tau(x) w(x)`` with a smooth window ``w(x) = Phi(sqrt(2) c (x + 1/tau))``
    that is 1 on ``[0, 1]`` up to ``epsilon / 2`` (``c = tau erfcinv(epsilon)``) and
    falls faster than ``exp(tau |x|)`` grows below ``-1/tau``, which bounds the
    target by ``e^2 tau`` on [-1, 1]. Its Chebyshev series (interpolation at
    Chebyshev points, :func:`numpy.polynomial.chebyshev.chebinterpolate` style, by
    DCT) is cut where the dropped coefficients sum to
    ``epsilon / 2 * (1 - exp(-tau))``, and ``x_scale = 1 / chebyshev_sup_bound``.

    Parameters
    ----------
    tau : float
        ``t * alpha``: the training time in units of the block-encoded ``K / alpha``.
    epsilon : float
        Relative accuracy on [0, 1], in (0, 1).
    max_degree : int, default=MAX_DEGREE
        Degree budget, checked against an a-priori estimate (about
        ``tau (e/2 + 2 erfcinv(epsilon) sqrt(ln(2/epsilon)))``) before building.

    Returns
    -------
    poly : GradientFlowPolynomial

    Examples
    --------
    >>> import numpy as np
    >>> P = gradient_flow_polynomial(tau=20.0, epsilon=1e-3)
    >>> x = np.linspace(0, 1, 501)
    >>> exact = phi(x, 20.0)
    >>> bool(np.all(np.abs(P(x) / P.x_scale - exact) <= 1e-3 * exact))
    True
    >>> bool(np.max(np.abs(P(np.linspace(-1, 1, 4001)))) <= 1.0), P.degree < 400
    (True, True)
    """
    tau = check_time(tau, "tau")
    if not 0 < epsilon < 1:
        raise ValueError(f"`epsilon` must be in (0, 1); got {epsilon!r}.")
    c, delta, window_error, estimate = _window(tau, epsilon)
    if estimate > max_degree:
        raise ValueError(
            f"The QSVT polynomial of (1 - exp(-t x)) / x at t * alpha = {tau:.4g} "
            f"needs a degree of about {estimate}, above `max_degree`={max_degree}: "
            "use a smaller `t` (or t=None and a QSVT inversion), or solve "
            "classically with solver='exact' or 'iterative'; or raise `max_degree`."
        )
    floor = 1.0 - math.exp(-tau)  # min of phi_tau on [0, 1]
    budget = 0.5 * epsilon * floor
    N = 1 << max(6, math.ceil(math.log2(2 * estimate)))
    while True:
        nodes = np.cos(np.pi * (np.arange(N) + 0.5) / N)
        values = np.exp(_log_target(nodes, tau, c, delta))
        coef = special_dct_coefficients(values)
        tail = np.cumsum(np.abs(coef)[::-1])[::-1]
        # Converged when the last quarter is at rounding level (no aliasing left).
        if tail[3 * N // 4] <= 1e-3 * budget or N > 4 * max(estimate, 64):
            break
        N *= 2
    dropped = np.append(tail[1:], 0.0)
    cut = int(np.argmax(dropped <= budget))
    g = coef[: cut + 1]
    x_scale = 1.0 / chebyshev_sup_bound(g)
    return GradientFlowPolynomial(
        tau=tau,
        epsilon=float(epsilon),
        degree=int(g.size - 1),
        coef=g * x_scale,
        x_scale=float(x_scale),
        truncation_error=float(dropped[cut]),
        window_error=float(window_error),
    )


def special_dct_coefficients(values):
    """Chebyshev coefficients of the interpolant at the first-kind Chebyshev points.

    ``values[j] = f(cos(pi (j + 1/2) / N))``; one DCT-II.
    """
    from scipy.fft import dct

    N = values.size
    coef = dct(values, type=2) / N
    coef[0] /= 2.0
    return coef
