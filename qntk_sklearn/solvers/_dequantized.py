"""A dequantized baseline: the QSVT decision value estimated by classical sampling.

The quantum algorithm outputs (the sign of) ``<k*| P(K/alpha) |y>`` for the
polynomial ``P`` of :func:`~qntk_sklearn.solvers.inverse_polynomial`. With the same
kind of access the quantum algorithm assumes, sampling and querying instead of
superposition queries, a classical computer estimates the same number by Monte
Carlo, at a cost that does not depend on ``n`` when ``P`` has small degree (Tang
2019; Gharibian and Le Gall 2022 for sparse matrices):

1. sample a training index ``i`` with probability ``k_i^2 / ||k||^2`` (``l2``
   sampling of the clipped kernel row, the classical counterpart of preparing
   ``|k*>``);
2. from ``i``, walk ``degree`` steps on the sparse matrix ``A = K/alpha``: from row
   ``r`` go to column ``c`` with probability ``|A_rc| / ||A_r||_1`` (one row query
   per step) and multiply a weight by ``sign(A_rc) ||A_r||_1``, so that after
   ``m`` steps ``E[W_m y_{i_m}] = (A^m y)_i``;
3. ``X = ||k||^2 / k_i * sum_m a_m W_m y_{i_m}`` with ``P(x) = sum_m a_m x^m`` is an
   unbiased estimate of ``k^T P(A) y``; the mean over ``samples`` draws, rescaled
   by the known factors, estimates the decision value.

Since ``|W_m| <= rho^m`` with ``rho = max_r ||A_r||_1``, one sample has
``E[X^2] <= ||k||^2 n max_i y_i^2 (sum_m |a_m| rho^m)^2``. For labels of equal
magnitude and ``P(x) = x_scale x`` (degree 1, the paper's depth) this is about
``rho^2 ||k||^2 ||P(A) y||^2``, so resolving the sign of the mean
``o ||k|| ||P(A) y||`` takes about ``rho^2 / o^2`` samples: the quantum readout's
own ``1/o^2``, with ``rho ~ 1`` for a near-diagonal kernel, and no ``n``. The
monomial coefficients ``a_m`` grow like ``2^degree``, so the cost is exponential in
the degree: the method is for the small degrees of deep, well-conditioned kernels,
which is where the paper operates.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import numpy.polynomial.chebyshev as cheb
import scipy.sparse as sp
from sklearn.utils._param_validation import Interval

from ._qsvt import (
    _COMMON_ATTRIBUTES,
    _QSVTSolverBase,
    _row_seeds,
    clip_kernel_rows,
)

#: Query rows whose samples are drawn at once.
_BLOCK_ROWS = 64


class DequantizedSolver(_QSVTSolverBase):
    """Classical Monte-Carlo estimate of the QSVT decision value (dequantization).

    Estimates the same number as :class:`QSVTSolver`'s noiseless readout,
    ``k_thresh k^T P(K/alpha) y / (x_scale alpha)`` with ``k`` the clipped kernel
    row and ``P`` the same inversion polynomial, from ``samples`` classical samples
    of ``k`` (``l2`` sampling) and random walks of ``degree_`` steps along the
    sparse rows of ``K / alpha`` (one row query per step). The cost per decision
    value, ``classical_queries_``, depends on ``samples`` and ``degree_`` but not
    on ``n``.

    Parameters
    ----------
    epsilon : float, default=1e-3
        Relative accuracy of the inversion polynomial (as :class:`QSVTSolver`).
    alpha : {{"norm", "sparse"}} or float, default="norm"
        Normalisation of ``K`` (as :class:`QSVTSolver`).
    kappa : "auto" or float >= 1, default="auto"
        Condition bound covered by the polynomial (as :class:`QSVTSolver`).
    samples : int or None, default=1000
        Monte-Carlo samples (each an index of ``k`` and one walk) per decision
        value. None: the exact expectation ``k^T dual_coef_``.
    random_state : int, RandomState instance or None, default=None
        Seeds the samples; as for :class:`QSVTSolver`, every query row gets its own
        generator from ``seed_`` and the row's values, so predictions are
        reproducible and independent of batching.
    max_degree : int, default=51
        Largest polynomial degree accepted (ValueError beyond): the walks' weights
        multiply monomial coefficients that grow like ``2^degree``, so the variance
        explodes with the degree. Use :class:`QSVTSolver` for ill-conditioned
        kernels.

    Attributes
    ----------
    {common_attributes}
    monomial_coef_ : ndarray of shape ``(degree_ + 1,)``
        ``P(x) = sum_m monomial_coef_[m] x^m``.
    classical_queries_ : dict
        Classical queries per decision value (per query row; all targets share
        the walks): ``"samples"``, ``"walk_length"`` (``degree_``), ``"k_samples"``
        (``l2`` samples of ``k``), ``"row_samples"`` (neighbour samples, one row
        of ``K`` each), ``"y_queries"`` and ``"total"``.

    See Also
    --------
    QSVTSolver : the emulated quantum algorithm computing the same value.

    Notes
    -----
    Fitting computes the normalisation, the polynomial and, for diagnostics and
    resource estimates only, the exact ``dual_coef_`` (``degree_`` sparse
    products); ``decision_function`` never reads ``dual_coef_`` when ``samples``
    is set. The sampling tables (row ``l1`` norms, cumulative ``|K_ij|``) are
    built once at fit, ``O(nnz)``, the classical counterpart of loading ``K`` into
    the quantum algorithm's QRAM; ``l2`` sampling of a query row needs its ``n``
    entries, which the quantum algorithm needs too (to load ``|k*>``).

    References
    ----------
    .. [1] E. Tang, "A quantum-inspired classical algorithm for recommendation
       systems", STOC 2019.
    .. [2] S. Gharibian, F. Le Gall, "Dequantizing the quantum singular value
       transformation: hardness and applications to quantum chemistry and the
       quantum PCP conjecture", STOC 2022.
    .. [3] A. Zlokapa, H. Neven, S. Lloyd, arXiv:2107.09200 (2021).

    Examples
    --------
    >>> import numpy as np
    >>> from qntk_sklearn.solvers import DequantizedSolver, QSVTSolver
    >>> K = np.array([[2.0, 0.1, 0.0], [0.1, 2.0, 0.1], [0.0, 0.1, 2.0]])
    >>> y = np.array([1.0, -1.0, 1.0])
    >>> d = DequantizedSolver(epsilon=1e-2, samples=20000, random_state=0).fit(K, y)
    >>> d.degree_, d.classical_queries_["total"]   # 20000 x (1 + 7 + 4)
    (7, 240000)
    >>> exact = QSVTSolver(epsilon=1e-2).fit(K, y).decision_function(0.5 * K)
    >>> est = d.decision_function(0.5 * K)
    >>> bool(np.all(np.abs(est - exact) < 0.05))   # exact values ~ +-0.5
    True
    """

    _parameter_constraints = {
        **{
            k: v
            for k, v in _QSVTSolverBase._parameter_constraints.items()
            if k != "shots"
        },
        "samples": [Interval(Integral, 1, None, closed="left"), None],
        "max_degree": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        epsilon=1e-3,
        alpha="norm",
        kappa="auto",
        samples=1000,
        random_state=None,
        max_degree=51,
    ):
        self.epsilon = epsilon
        self.alpha = alpha
        self.kappa = kappa
        self.samples = samples
        self.random_state = random_state
        self.max_degree = max_degree

    @property
    def _stochastic(self):
        return self.samples is not None

    def _set_bounds(self, bounds):
        super()._set_bounds(bounds)
        self._check_degree(f"The inversion polynomial for kappa={self.kappa_:.4g}")

    def _set_time_bounds(self, bounds, t):
        super()._set_time_bounds(bounds, t)
        self._check_degree(
            f"The finite-time polynomial for t * alpha={t * self.alpha_:.4g}",
            remedy="use a smaller `t`",
        )

    def _check_degree(self, what, remedy="use a deeper network (smaller kappa)"):
        if self.degree_ > self.max_degree:
            raise ValueError(
                f"{what} and epsilon={self.epsilon!r} has degree {self.degree_}, "
                f"above `max_degree`={self.max_degree}: the sampling variance grows "
                f"like 4^degree. Raise `epsilon`, {remedy}, or use QSVTSolver."
            )

    def fit(self, K, Y, *, k_thresh=None, t=None):
        """Prepare the sampling tables of ``K / alpha`` and the polynomial.

        Parameters
        ----------
        K : {ndarray, sparse matrix} of shape (n_samples, n_samples)
            Symmetric, invertible (sparsified) training kernel.
        Y : ndarray of shape (n_samples,) or (n_samples, n_targets)
        k_thresh : float or None, default=None
            Clipping scale of the kernel rows; None means ``max |diag K|``.
        t : float or None, default=None
            Finite training time: sample the bounded polynomial of
            ``(1 - exp(-t x)) / x`` that :class:`QSVTSolver` applies, instead of the
            inverse (see its ``fit``). None: the inverse.

        Returns
        -------
        self : DequantizedSolver
        """
        K, Y = self._prepare(K, Y, k_thresh, t)
        A = sp.csr_matrix(K * (1.0 / self.alpha_))
        A.sum_duplicates()
        A.eliminate_zeros()
        self._set_solution(self.polynomial_.apply(A, Y), Y)
        self.monomial_coef_ = cheb.cheb2poly(self.polynomial_.coef)
        self._indptr, self._indices = A.indptr, A.indices
        self._signs = np.sign(A.data)
        self._cum = np.cumsum(np.abs(A.data))
        start = np.concatenate([[0.0], self._cum])[A.indptr[:-1]]
        self._row_start = start
        self._row_l1 = self._cum[A.indptr[1:] - 1] - start
        self._Y = Y
        d = int(self.degree_)
        used = int(np.count_nonzero(self.monomial_coef_))
        S = 0 if self.samples is None else int(self.samples)
        self.classical_queries_ = {
            "samples": S,
            "walk_length": d,
            "k_samples": S,
            "row_samples": S * d,
            "y_queries": S * used,
            "total": S * (1 + d + used),
        }
        nnz = int(A.nnz)
        self.classical_cost_ = {
            "method": "dequantized-sampling",
            "nnz": nnz,
            "table_flops": float(2 * nnz),
            "queries_per_value": self.classical_queries_["total"],
        }
        return self

    def decision_function(self, K_star):
        """Monte-Carlo estimates of ``K_star @ K^-1 Y`` through the polynomial.

        Parameters
        ----------
        K_star : {ndarray, sparse matrix} of shape (n_queries, n_samples)

        Returns
        -------
        decision : ndarray of shape (n_queries, n_targets)
            Unbiased estimates of the noiseless QSVT decision value
            ``k_thresh_ * k^T dual_coef_`` (exactly that when ``samples=None``).
        """
        K_star = self._check_K_star(K_star)
        n_q = K_star.shape[0]
        out = np.empty((n_q, self.dual_coef_.shape[1]))
        for start in range(0, n_q, _BLOCK_ROWS):
            rows = K_star[start : start + _BLOCK_ROWS]
            k, P = clip_kernel_rows(rows, self.k_thresh_)
            if self.samples is None:
                out[start : start + _BLOCK_ROWS] = self.k_thresh_ * (
                    k @ self.dual_coef_
                )
                continue
            for r, seq in enumerate(_row_seeds(self.seed_, rows)):
                out[start + r] = self._estimate(k[r], P[r], np.random.default_rng(seq))
        return out

    def _estimate(self, k, norm2, rng):
        """One row: the mean of ``samples`` single-sample estimates."""
        n_targets = self._Y.shape[1]
        if not norm2 > 0:
            return np.zeros(n_targets)
        S = int(self.samples)
        cdf = np.cumsum(k * k)
        u = rng.random(S) * cdf[-1]
        node = np.minimum(np.searchsorted(cdf, u, side="right"), k.size - 1)
        coef = self.monomial_coef_
        weight = norm2 / k[node]  # ||k||^2 / k_i: l2 importance weight
        total = np.zeros((S, n_targets))
        if coef[0] != 0:
            total += (coef[0] * weight)[:, None] * self._Y[node]
        for m in range(1, coef.size):
            node, factor = self._step(node, rng)
            weight = weight * factor
            if coef[m] != 0:
                total += (coef[m] * weight)[:, None] * self._Y[node]
        scale = self.k_thresh_ / (self.polynomial_.x_scale * self.alpha_)
        return scale * total.mean(axis=0)

    def _step(self, node, rng):
        """One step of every walk: the next column and the weight factor."""
        l1 = self._row_l1[node]
        target = self._row_start[node] + rng.random(node.size) * l1
        pos = np.searchsorted(self._cum, target, side="right")
        pos = np.clip(pos, self._indptr[node], self._indptr[node + 1] - 1)
        return self._indices[pos], self._signs[pos] * l1


if DequantizedSolver.__doc__:  # None under python -OO
    DequantizedSolver.__doc__ = DequantizedSolver.__doc__.format(
        common_attributes=_COMMON_ATTRIBUTES
    )
