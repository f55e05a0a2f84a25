"""The odd polynomial that QSVT applies to invert a matrix: a bounded, scaled ``1/x``.

The construction is Childs, Kothari and Somma's (CKS) [1]_, as used for QSVT matrix
inversion by Gilyén, Su, Low and Wiebe [2]_:

1. ``f_b(x) = (1 - (1 - x^2)^b) / x`` equals ``1/x`` up to a relative error
   ``(1 - x^2)^b <= exp(-b / kappa^2)`` for ``1/kappa <= |x| <= 1`` and stays bounded
   near 0 (it is a polynomial of degree ``2b - 1``).
2. Its Chebyshev expansion is known in closed form,
   ``f_b(x) = 4 sum_{j=0}^{b-1} (-1)^j [sum_{i=j+1}^{b} C(2b, b+i) / 4^b] T_{2j+1}(x)``,
   and the bracket is the upper tail ``P(X >= b + j + 1)`` of ``X ~ Binomial(2b, 1/2)``
   (:func:`scipy.stats.binom.sf`, accurate where the sum of binomials would overflow).
   The coefficients decay like ``exp(-j^2 / b)``, so the series is truncated after
   ``j0 ~ sqrt(b log(b / epsilon))`` terms.
3. The truncated series ``g`` is divided by an upper bound of ``max_{[-1,1]} |g|`` (at
   least ``kappa``) so that ``|P| <= 1`` on ``[-1, 1]``, as a block-encoding requires.

The result ``P = x_scale * g`` is odd, ``|P(x)| <= 1`` on ``[-1, 1]`` and
``|P(x) - x_scale / x| <= epsilon * x_scale / |x|`` on ``1/kappa <= |x| <= 1`` (a
relative error, which bounds the absolute error by ``epsilon`` since
``x_scale * kappa <= 1``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.polynomial.chebyshev as cheb
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from scipy.stats import binom

#: Grid points per unit of degree when bounding ``max |g|`` on [-1, 1] (see Notes of
#: :func:`chebyshev_sup_bound`): the bound is then at most 2.5% above the maximum.
_SUP_GRID_FACTOR = 64

#: Length of one FFT in :func:`chebyshev_sup_bound`: the grid is evaluated in chunks
#: of this many points (16 MiB of complex128), whatever the degree.
_SUP_CHUNK = 2**20

#: Degree budget of :func:`inverse_polynomial` (and the default ``max_degree`` of
#: :class:`~qntk_sklearn.solvers.QSVTSolver`): ``kappa`` up to about 3e4 at
#: ``epsilon = 1e-3``. Building the polynomial takes O(degree) memory (about
#: 40 bytes per degree at its peak) and applying it one product with ``K`` per degree
#: and target, so the budget bounds both; above it the closed-form
#: :func:`inverse_degree_bound` is compared with the budget before anything is
#: allocated.
MAX_DEGREE = 10**6


def _check_kappa_epsilon(kappa, epsilon):
    if not (
        isinstance(kappa, (int, float, np.floating, np.integer))
        and math.isfinite(kappa)
        and kappa >= 1
    ):
        raise ValueError(f"`kappa` must be a finite real number >= 1; got {kappa!r}.")
    if not (
        isinstance(epsilon, (int, float, np.floating, np.integer)) and 0 < epsilon < 1
    ):
        raise ValueError(f"`epsilon` must be in (0, 1); got {epsilon!r}.")
    return float(kappa), float(epsilon)


def _cks_exponent(kappa, epsilon):
    """Smallest ``b`` with ``(1 - 1/kappa^2)^b <= epsilon / 2``."""
    if kappa == 1.0:
        return 1  # f_1(x) = x = 1/x on the domain {-1, 1}
    b = math.log(epsilon / 2.0) / math.log1p(-1.0 / kappa**2)
    return max(1, math.ceil(b))


def inverse_degree_bound(kappa, epsilon):
    """Closed-form upper bound on the degree of :func:`inverse_polynomial`.

    ``2 j0 + 1`` with ``j0 = ceil(sqrt(b ln(8 b / epsilon)))`` and
    ``b = ceil(kappa^2 ln(2 / epsilon))`` (CKS Lemmas 17 and 19 with error budget
    ``epsilon / 2`` for each approximation), which is
    ``O(kappa log(kappa / epsilon))``.

    Parameters
    ----------
    kappa : float
        Condition-number bound, at least 1.
    epsilon : float
        Relative accuracy, in (0, 1).

    Returns
    -------
    degree : int

    Examples
    --------
    >>> inverse_degree_bound(2.0, 1e-3)
    41
    """
    kappa, epsilon = _check_kappa_epsilon(kappa, epsilon)
    b = max(1, math.ceil(kappa**2 * math.log(2.0 / epsilon)))
    j0 = math.ceil(math.sqrt(b * math.log(8.0 * b / epsilon)))
    return 2 * j0 + 1


def chebyshev_sup_bound(coef):
    """Upper bound on ``max_{x in [-1, 1]} |sum_k coef[k] T_k(x)|``.

    Parameters
    ----------
    coef : array-like of shape (degree + 1,)
        Chebyshev coefficients.

    Returns
    -------
    bound : float

    Notes
    -----
    ``t(theta) = p(cos theta)`` is a trigonometric polynomial of degree ``d``, so
    Bernstein's inequality gives ``|t'| <= d max|t|``. Its values on ``m``
    equispaced angles have maximum ``G``; every angle is within ``pi / (2m)`` of a
    grid angle, hence ``max|t| <= G / (1 - pi d / (2m))``. With ``m >= 64 (d + 1)``
    the bound exceeds the maximum by at most 2.5%.

    Memory is ``O(d + 2^20)`` whatever the degree: the grid is split into
    interleaved chunks of ``2^20`` angles ``theta_0 + 2 pi l / 2^20``, and each
    chunk is one FFT of the coefficients times ``exp(i k theta_0)``, folded modulo
    ``2^20`` (a single DCT of all ``64 (d + 1)`` points took about 1 GiB at
    ``d = 2e5``).

    Examples
    --------
    >>> bound = chebyshev_sup_bound([0.0, 0.5, 0.0, 0.25])  # 0.5 T1 + 0.25 T3
    >>> 0.75 <= bound <= 0.75 * 1.025
    True
    """
    coef = np.asarray(coef, dtype=np.float64)
    d = coef.size - 1
    if d <= 0:
        return float(abs(coef[0])) if coef.size else 0.0
    # M angles per chunk spaced 2 pi / M cover the circle; `chunks` interleaved
    # offsets make the spacing 2 pi / (M chunks) <= pi / (64 (d + 1)).
    M = min(_SUP_CHUNK, 1 << math.ceil(math.log2(2 * _SUP_GRID_FACTOR * (d + 1))))
    chunks = math.ceil(2 * _SUP_GRID_FACTOR * (d + 1) / M)
    m = M * chunks // 2  # the grid has spacing pi / m
    k = np.arange(d + 1)
    fold = k % M
    grid_max = 0.0
    for r in range(chunks):
        shifted = coef * np.exp(1j * (math.pi * r / m) * k)
        folded = np.bincount(fold, weights=shifted.real, minlength=M) + 1j * (
            np.bincount(fold, weights=shifted.imag, minlength=M)
        )
        # sum_k c_k e^{i k (theta_r + 2 pi l / M)} = M * ifft(folded)[l]
        values = np.fft.ifft(folded) * M
        grid_max = max(grid_max, float(np.max(np.abs(values.real))))
    return grid_max / (1.0 - math.pi * d / (2.0 * m))


@dataclass(frozen=True, eq=False)
class InversePolynomial:
    """An odd polynomial ``P(x) ≈ x_scale / x`` with ``|P| <= 1`` on [-1, 1].

    Built by :func:`inverse_polynomial`; see that function for the construction.

    Attributes
    ----------
    kappa : float
        ``P`` approximates ``x_scale / x`` on ``1/kappa <= |x| <= 1``.
    epsilon : float
        Relative error bound: ``|P(x) - x_scale/x| <= epsilon * x_scale / |x|`` there.
    b : int
        CKS exponent of ``(1 - (1 - x^2)^b) / x``.
    degree : int
        Odd degree ``2 j0 + 1``: the number of block-encoding queries of one QSVT
        circuit.
    coef : ndarray of shape (degree + 1,)
        Chebyshev coefficients of ``P`` (even ones are zero).
    x_scale : float
        The scale in ``P(x) ≈ x_scale / x``; ``x_scale * kappa <= 1``.
    truncation_error : float
        Bound on ``max |g - f_b|`` left by truncating the Chebyshev series.
    """

    kappa: float
    epsilon: float
    b: int
    degree: int
    coef: np.ndarray = field(repr=False)
    x_scale: float
    truncation_error: float

    def __call__(self, x):
        """Evaluate ``P`` at scalar or array ``x``."""
        return cheb.chebval(np.asarray(x, dtype=np.float64), self.coef)

    def power_coefficients(self):
        """Coefficients of ``P`` in the monomial basis, lowest power first.

        This is what :func:`pennylane.poly_to_angles` takes; only sensible for
        moderate degrees (monomial coefficients grow like ``2^degree``).
        """
        return cheb.cheb2poly(self.coef)

    def apply(self, A, Y):
        """``P(A) @ Y`` for symmetric ``A`` with ``||A|| <= 1``, by matrix products.

        See :func:`chebyshev_apply`.
        """
        return chebyshev_apply(self.coef, A, Y)


def inverse_polynomial(kappa, epsilon, max_degree=MAX_DEGREE):
    """The CKS polynomial approximation of a scaled ``1/x`` used for QSVT inversion.

    Parameters
    ----------
    kappa : float
        Bound on the condition number of the block-encoded matrix ``A``: every
        eigenvalue satisfies ``1/kappa <= |lambda| <= 1``. At least 1.
    epsilon : float
        Relative accuracy, in (0, 1): on the domain
        ``|P(x) - x_scale / x| <= epsilon * x_scale / |x|``, so ``P(A) y / x_scale``
        is within relative error ``epsilon`` of ``A^-1 y`` for every ``y``.
    max_degree : int, default=MAX_DEGREE
        Degree budget: ValueError, before anything is allocated, when
        :func:`inverse_degree_bound` exceeds it.

    Returns
    -------
    poly : InversePolynomial

    Notes
    -----
    With ``f_b(x) = (1 - (1 - x^2)^b) / x`` and its Chebyshev series truncated after
    ``T_{2 j0 + 1}`` (``g``), the relative error on the domain splits as
    ``|x g(x) - 1| <= |x| |g - f_b| + (1 - x^2)^b``. The exponent
    ``b = ceil(ln(epsilon / 2) / ln(1 - 1/kappa^2))`` makes the second term at most
    ``epsilon / 2`` (CKS Lemma 17 uses the slightly larger
    ``kappa^2 ln(2 / epsilon)``); ``j0`` is the smallest index whose dropped
    coefficients sum to at most ``epsilon / 2`` in absolute value
    (``|T_k| <= 1``), computed from the exact coefficients. CKS Lemma 19 bounds it by
    ``sqrt(b ln(8 b / epsilon))``, so the degree ``2 j0 + 1`` never exceeds
    :func:`inverse_degree_bound`, ``O(kappa log(kappa / epsilon))``.

    Finally ``x_scale = 1 / max(M, kappa)`` with ``M >= max_{[-1,1]} |g|``: since
    ``|g - f_b|`` is at most the dropped coefficients' sum everywhere on [-1, 1],
    ``M = max |f_b| + truncation_error``, the peak of the closed form ``f_b`` found
    by a one-dimensional search, so ``|P| = x_scale |g| <= 1`` on [-1, 1]. Memory is
    O(degree): the coefficients are computed up to CKS's bound on ``j0`` and the rest
    of the tail is bounded in closed form (Hoeffding). Near
    ``x ~ 1 / sqrt(b)`` the function ``g`` peaks at about
    ``0.64 sqrt(b) ~ 0.64 kappa sqrt(ln(2/epsilon))``; therefore ``x_scale`` is
    ``1 / (1.8 kappa)`` for ``epsilon = 1e-3`` and the QSVT success probability is
    ``||P(A) y||^2 ~ (x_scale ||A^-1 y||)^2``.

    References
    ----------
    .. [1] A. M. Childs, R. Kothari, R. D. Somma, "Quantum algorithm for systems of
       linear equations with exponentially improved dependence on precision",
       SIAM J. Comput. 46, 1920 (2017), Lemmas 17-19.
    .. [2] A. Gilyén, Y. Su, G. H. Low, N. Wiebe, "Quantum singular value
       transformation and beyond", STOC 2019, Corollary 69.

    Examples
    --------
    >>> import numpy as np
    >>> P = inverse_polynomial(kappa=2.0, epsilon=1e-3)
    >>> P.degree, P.degree <= inverse_degree_bound(2.0, 1e-3)
    (25, True)
    >>> x = np.linspace(0.5, 1.0, 101)
    >>> bool(np.all(np.abs(P(x) * x / P.x_scale - 1) <= 1e-3))
    True
    """
    kappa, epsilon = _check_kappa_epsilon(kappa, epsilon)
    bound = inverse_degree_bound(kappa, epsilon)
    if bound > max_degree:
        raise ValueError(degree_budget_message(kappa, epsilon, bound, max_degree))
    b = _cks_exponent(kappa, epsilon)
    # The coefficients are computed up to J ~ sqrt(b ln(8 b / epsilon)) only (CKS
    # Lemma 19: j0 never exceeds it); the rest of the tail is bounded in closed form.
    J = min(b - 1, math.ceil(math.sqrt(b * math.log(8.0 * b / epsilon))) + 1)
    j = np.arange(J + 1)
    c_odd = 4.0 * np.where(j % 2 == 0, 1.0, -1.0) * binom.sf(b + j, 2 * b, 0.5)
    del j
    beyond = _binomial_tail_bound(b, J)
    # dropped[j0] = sum_{j > j0} |c_j|: error bound when keeping j = 0..j0.
    dropped = np.cumsum(np.abs(c_odd)[::-1])[::-1]
    dropped = np.append(dropped[1:], 0.0) + beyond
    if not dropped[-1] <= epsilon / 2.0:  # pragma: no cover - excluded by J's choice
        raise RuntimeError(f"CKS truncation not found for b={b}, epsilon={epsilon}.")
    j0 = int(np.argmax(dropped <= epsilon / 2.0))
    truncation = float(dropped[j0])
    del dropped
    degree = 2 * j0 + 1
    g = np.zeros(degree + 1)
    g[1::2] = c_odd[: j0 + 1]
    del c_odd
    # |g| <= |f_b| + truncation on [-1, 1] (|T_k| <= 1): no grid needed.
    x_scale = 1.0 / max(_cks_peak(b) + truncation, kappa)
    g *= x_scale
    return InversePolynomial(
        kappa=kappa,
        epsilon=epsilon,
        b=b,
        degree=degree,
        coef=g,
        x_scale=x_scale,
        truncation_error=truncation,
    )


def degree_budget_message(kappa, epsilon, degree, max_degree, cause=""):
    """The error for a polynomial over the degree budget (shared by the solvers).

    ``cause`` (e.g. from :func:`~qntk_sklearn.solvers.describe_singularity`) names
    duplicate rows; the remedies then start with removing them.
    """
    if cause:
        remedy = (
            " Remove the duplicate training rows, or set `diag_reg` > 0 on the "
            "estimator (a ridge, e.g. 1e-6), or solve classically with "
            "solver='exact' or 'iterative'."
        )
    else:
        remedy = (
            " Condition the system: set `diag_reg` > 0 on the estimator (a ridge, "
            "e.g. 1e-6), use a deeper network (a larger `depth`), or solve "
            "classically with solver='exact' or 'iterative'; or raise `max_degree`."
        )
    return (
        f"The QSVT inversion of a kernel with condition bound kappa={kappa:.4g} at "
        f"epsilon={epsilon:g} needs a polynomial of degree up to {degree}, above "
        f"`max_degree`={max_degree} (the degree budget: memory and time grow with "
        f"it, one product with K per degree and target).{cause}{remedy}"
    )


def _binomial_tail_bound(b, J):
    """Bound on ``sum_{j > J} |c_j|``, ``c_j = 4 P(X >= b + j + 1)``, X ~ Bin(2b, 1/2).

    Hoeffding: ``P(X - b >= s) <= exp(-s^2 / b)``; the sum over ``s >= J + 2`` is at
    most ``exp(-(J+2)^2 / b) + (sqrt(pi b) / 2) erfc((J + 2) / sqrt(b))``.
    """
    if J >= b - 1:
        return 0.0  # f_b has no coefficient beyond j = b - 1
    z = (J + 2) / math.sqrt(b)
    return 4.0 * (math.exp(-z * z) + 0.5 * math.sqrt(math.pi * b) * math.erfc(z))


def _cks_peak(b):
    """``max_{0 < x <= 1} f_b(x)``, ``f_b(x) = (1 - (1 - x^2)^b) / x``, plus 1e-9.

    ``f_b`` is odd, grows like ``b x`` near 0 and falls like ``1/x`` beyond its single
    peak near ``1.12 / sqrt(b)``: a coarse logarithmic grid brackets the peak and
    Brent's method refines it; the relative margin covers the refinement's
    tolerance.
    """

    def f(x):
        return -math.expm1(b * math.log1p(-x * x)) / x if x < 1.0 else 1.0

    grid = np.geomspace(min(1e-3 / math.sqrt(b), 0.5), 1.0, 400)
    values = np.array([f(x) for x in grid])
    i = int(np.argmax(values))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    res = minimize_scalar(
        lambda x: -f(x),
        bounds=(lo, hi),
        method="bounded",
        options={"xatol": 1e-12 * hi},
    )
    return max(float(values[i]), -float(res.fun)) * (1.0 + 1e-9)


def chebyshev_apply(coef, A, Y):
    """``sum_k coef[k] T_k(A) @ Y`` by Clenshaw's recurrence: ``degree`` products.

    Written by hand because :func:`numpy.polynomial.chebyshev.chebval` evaluates
    elementwise, not at a matrix argument. Only products ``A @ V`` are formed, so a
    sparse ``A`` costs ``O(degree * nnz(A) * n_targets)`` time and ``O(n n_targets)``
    memory; no ``n x n`` array is built. The recurrence
    ``b_k = coef[k] Y + 2 A b_{k+1} - b_{k+2}``,
    ``result = coef[0] Y + A b_1 - b_2`` is numerically stable for ``||A|| <= 1``.

    Parameters
    ----------
    coef : array-like of shape (degree + 1,)
        Chebyshev coefficients.
    A : {ndarray, sparse matrix, LinearOperator} of shape (n, n)
        Symmetric, spectrum in [-1, 1].
    Y : ndarray of shape (n,) or (n, n_targets)

    Returns
    -------
    PY : ndarray of the shape of ``Y``

    Examples
    --------
    >>> import numpy as np
    >>> A = np.diag([0.5, -0.25])
    >>> chebyshev_apply([0.0, 0.0, 0.0, 1.0], A, np.ones(2))  # T3(x) = 4x^3 - 3x
    array([-1.    ,  0.6875])
    """
    coef = np.asarray(coef, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if coef.size == 0:
        return np.zeros_like(Y)
    b1 = np.zeros_like(Y)  # b_{k+1}
    b2 = np.zeros_like(Y)  # b_{k+2}
    for k in range(coef.size - 1, 0, -1):
        if k == coef.size - 1:
            b0 = coef[k] * Y
        else:
            b0 = _matmul(A, b1)
            b0 *= 2.0
            b0 -= b2
            if coef[k] != 0.0:
                b0 += coef[k] * Y
        b2, b1 = b1, b0
    out = _matmul(A, b1)
    out -= b2
    if coef[0] != 0.0:
        out += coef[0] * Y
    return out


def _matmul(A, V):
    out = A @ V
    if sp.issparse(out):  # pragma: no cover - A @ dense is dense for scipy matrices
        out = out.toarray()
    return np.asarray(out, dtype=np.float64)
