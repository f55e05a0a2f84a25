"""Emulated quantum linear solver: QSVT matrix inversion, ``|k*>`` preparation, readout.

:class:`QSVTSolver` computes what the quantum algorithm of the paper outputs, exactly
and classically: the QSVT state ``P(K/alpha) |y>`` by sparse matrix-vector products,
the success probabilities of its post-selections, and the Hadamard-test readout of
the overlap with the clipped test-kernel state ``|k*>`` with a finite number of
measurements. The shared machinery (normalisation, condition bound, readout) also
serves the circuit solver :class:`~qntk_sklearn.solvers.PennyLaneSolver`.
"""

from __future__ import annotations

import hashlib
import math
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._matrix import max_row_nonzeros
from ._base import BaseLinearSolver, _max_abs_entry, check_system
from ._conditioning import REMEDY, check_solution, describe_singularity
from ._evolution import check_time, check_time_system, gradient_flow_polynomial
from ._polynomial import (
    MAX_DEGREE,
    degree_budget_message,
    inverse_degree_bound,
    inverse_polynomial,
)
from ._spectrum import gershgorin_bounds, spectrum

#: Relative safety margin applied to Lanczos (ARPACK) estimates of extreme
#: eigenvalues: Ritz values lie inside the spectrum, so ``|lambda|_max`` is scaled up
#: and ``|lambda|_min`` down by this fraction.
LANCZOS_MARGIN = 1e-2

#: Margin for a dense eigendecomposition (exact up to rounding).
DENSE_MARGIN = 1e-9

#: ARPACK's relative tolerance on Ritz values: far inside ``LANCZOS_MARGIN``, and
#: loose enough to converge in few iterations on a deep kernel's clustered spectrum.
LANCZOS_TOL = 1e-4

#: Kernel entries clipped at once in ``decision_function`` (16 MiB of float64).
_READOUT_BLOCK_ENTRIES = 2**21

#: Gershgorin discs are used as they are, without Lanczos, when they certify a
#: condition number of ``K`` at most this (deep networks' near-diagonal kernels):
#: ``kappa`` is then at most 10% above its true value.
GERSHGORIN_KAPPA_MAX = 1.1


class SingularMatrixError(ValueError):
    """``K`` is singular: no polynomial of bounded degree inverts it."""


def eigenvalue_magnitudes(K):
    """Estimates of ``max|lambda|`` and ``min|lambda|`` of symmetric ``K``.

    :func:`spectrum` with ARPACK's relative tolerance ``LANCZOS_TOL``: exact (LAPACK)
    for small matrices, Lanczos (and shift-invert for the smallest magnitude of an
    indefinite matrix) otherwise; a large sparse matrix is never densified.

    Returns
    -------
    max_abs, min_abs : float
    method : {"dense", "lanczos", "lanczos+shift-invert"}

    Examples
    --------
    >>> import numpy as np
    >>> eigenvalue_magnitudes(np.diag([2.0, -0.5, 1.0]))
    (2.0, 0.5, 'dense')
    """
    info = spectrum(K, tol=LANCZOS_TOL)
    return float(info["max_abs"]), float(info["min_abs"]), info["method"]


def block_encoding_bounds(K, alpha="norm", kappa="auto", *, invertible=True):
    """Normalisation ``alpha >= ||K||`` and condition bound ``kappa`` of ``K / alpha``.

    Parameters
    ----------
    K : {ndarray, sparse matrix} of shape (n, n)
        Symmetric matrix.
    alpha : {"norm", "sparse"} or float, default="norm"
        "norm": a safe upper bound on the spectral norm, the Lanczos estimate of
        ``max|lambda|`` (:func:`eigenvalue_magnitudes`) times ``1 + LANCZOS_MARGIN``
        (exact eigenvalues for small matrices), capped by the rigorous Gershgorin
        bound. "sparse": the
        sparse-access block-encoding normalisation ``s * max|K_ij|`` of Gilyén et al.
        (Lemma 48), ``s`` the most nonzeros in a row; always ``>= ||K||``. A float is
        used as given and must be at least the estimated spectral norm.
    kappa : "auto" or float, default="auto"
        "auto": ``alpha / m`` with ``m`` a lower bound on ``min|lambda(K)|``: the
        Lanczos (shift-invert for indefinite ``K``) estimate times
        ``1 - LANCZOS_MARGIN``, raised to the Gershgorin lower bound when that
        certifies definiteness. A float (>= 1) is taken as a known bound on the
        condition number of ``K / alpha``.
    invertible : bool, default=True
        Whether ``K`` must be invertible (a singular ``K`` raises
        :class:`SingularMatrixError`). False for a finite training time, whose
        polynomial is bounded at 0: ``kappa`` is then inf for a singular ``K``.

    Returns
    -------
    bounds : dict
        ``alpha``, ``kappa``, ``alpha_method`` ("norm", "sparse" or "given"),
        ``norm_estimate`` and ``min_abs_estimate`` (estimated ``max|lambda|`` and
        ``min|lambda|`` of ``K``; the Gershgorin bounds themselves when
        ``spectrum_method`` is "gershgorin"), ``min_abs_bound`` (the safe lower
        bound behind ``kappa``), ``sparsity`` (``s``) and
        ``spectrum_method`` (see :func:`eigenvalue_magnitudes`).

    Notes
    -----
    Never a dense eigendecomposition of a large sparse matrix. When the Gershgorin discs
    exclude 0 and certify ``max|lambda| / min|lambda| <= 1.1`` (a deep network's
    near-diagonal kernel), their bounds are used directly (``spectrum_method`` is
    "gershgorin"; unless ``alpha`` is a float, which is checked against an
    estimate); otherwise :func:`eigenvalue_magnitudes` (ARPACK Lanczos:
    matrix-vector products only; the indefinite case factorises ``K`` sparsely for
    shift-invert).

    Examples
    --------
    >>> import numpy as np
    >>> K = np.array([[2.0, 1.0], [1.0, 2.0]])   # eigenvalues 1 and 3
    >>> b = block_encoding_bounds(K)
    >>> round(b["alpha"], 6), round(b["kappa"], 6)
    (3.0, 3.0)
    >>> round(block_encoding_bounds(K, alpha="sparse")["alpha"], 6)  # s = 2
    4.0
    """
    n = K.shape[0]
    if n == 0:
        raise ValueError("`K` must have at least one row; got shape (0, 0).")
    lower, upper = gershgorin_bounds(K)
    gershgorin_norm = max(abs(lower), abs(upper))
    gershgorin_min = lower if lower > 0 else (-upper if upper < 0 else 0.0)
    if (
        isinstance(alpha, str)
        and gershgorin_min > 0
        and gershgorin_norm <= GERSHGORIN_KAPPA_MAX * gershgorin_min
    ):
        # The discs alone certify a condition number <= 1.1: rigorous and free.
        norm_estimate, min_abs_estimate = gershgorin_norm, gershgorin_min
        spectrum_method, margin = "gershgorin", 0.0
    else:
        norm_estimate, min_abs_estimate, spectrum_method = eigenvalue_magnitudes(K)
        margin = DENSE_MARGIN if spectrum_method == "dense" else LANCZOS_MARGIN
    norm_bound = min(gershgorin_norm, norm_estimate * (1.0 + margin))
    min_abs = min_abs_estimate * (1.0 - margin)
    if lower > 0:
        min_abs = max(min_abs, lower)
    elif upper < 0:
        min_abs = max(min_abs, -upper)
    if not min_abs > 0 and invertible:
        raise SingularMatrixError(
            "`K` is singular (smallest eigenvalue magnitude "
            f"{min_abs_estimate:.3g}); QSVT inversion needs an invertible matrix."
            + describe_singularity(K)
            + " "
            + REMEDY
        )
    s = max_row_nonzeros(K)
    if isinstance(alpha, str):
        method = alpha
        if alpha == "norm":
            value = norm_bound
        elif alpha == "sparse":
            value = s * _max_abs_entry(K)
        else:
            raise ValueError(
                f"`alpha` must be 'norm', 'sparse' or a float; got {alpha!r}."
            )
    else:
        method = "given"
        value = float(alpha)
        if not value >= norm_estimate:
            raise ValueError(
                f"`alpha` must be at least the spectral norm of K (about "
                f"{norm_estimate:.6g}); got {alpha!r}. Use alpha='norm'."
            )
    if isinstance(kappa, str):
        if kappa != "auto":
            raise ValueError(f"`kappa` must be 'auto' or a float >= 1; got {kappa!r}.")
        kappa_value = max(value / min_abs, 1.0) if min_abs > 0 else math.inf
    else:
        kappa_value = float(kappa)
    return {
        "alpha": float(value),
        "kappa": float(kappa_value),
        "alpha_method": method,
        "norm_estimate": norm_estimate,
        "min_abs_estimate": float(min_abs_estimate),
        "min_abs_bound": float(min_abs),
        "sparsity": s,
        "spectrum_method": spectrum_method,
    }


def clip_kernel_rows(K_star, k_thresh):
    """The paper's amplitudes of ``|k*>``: ``k_i = clip(K_star_i / k_thresh, -1, 1)``.

    Parameters
    ----------
    K_star : ndarray of shape (n_queries, n_samples)
    k_thresh : float

    Returns
    -------
    k : ndarray of shape (n_queries, n_samples)
        Unnormalised amplitudes; ``|k*> = k / ||k||``.
    P : ndarray of shape (n_queries,)
        ``sum_i k_i^2``; preparing ``|k*>`` by post-selection costs about ``n / P``
        measurements.

    Examples
    --------
    >>> import numpy as np
    >>> k, P = clip_kernel_rows(np.array([[3.0, 1.0, -4.0]]), 2.0)
    >>> k, P
    (array([[ 1. ,  0.5, -1. ]]), array([2.25]))
    """
    k = np.asarray(K_star, dtype=np.float64) / k_thresh
    np.clip(k, -1.0, 1.0, out=k)
    return k, np.einsum("ij,ij->i", k, k)


#: Entries of a row (evenly spaced) that seed its measurement outcomes.
_FINGERPRINT_ENTRIES = 256


def _row_seeds(seed, rows):
    """One :class:`numpy.random.SeedSequence` per row, from ``seed`` and its values.

    The row's length and up to 256 evenly spaced entries are hashed (SHA-1), so a
    row gets the same outcomes whatever batch it comes in, at a cost independent of
    ``n``. Rows equal on those entries share outcomes; each is still a correct sample.
    The entries are rounded to float32 first: a kernel row recomputed with another
    summation order (BLAS on differently aligned copies, e.g. after unpickling)
    differs in its last bits, which must not change the outcomes.
    """
    n = rows.shape[1]
    idx = np.unique(np.linspace(0, n - 1, min(n, _FINGERPRINT_ENTRIES)).astype(np.intp))
    sub = np.ascontiguousarray(rows[:, idx], dtype=np.float32)
    seeds = []
    for i in range(sub.shape[0]):
        digest = hashlib.sha1(sub[i].tobytes() + n.to_bytes(8, "little")).digest()
        words = np.frombuffer(digest[:16], dtype=np.uint32)
        seeds.append(np.random.SeedSequence([int(seed), *map(int, words)]))
    return seeds


class _QSVTSolverBase(BaseLinearSolver):
    """Shared machinery of the QSVT solvers: normalisation, polynomial, readout."""

    _parameter_constraints = {
        "epsilon": [Interval(Real, 0, 1, closed="neither")],
        "alpha": [
            StrOptions({"norm", "sparse"}),
            Interval(Real, 0, None, closed="neither"),
        ],
        "kappa": [StrOptions({"auto"}), Interval(Real, 1, None, closed="left")],
        "shots": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    @property
    def _stochastic(self):
        return self.shots is not None

    def _prepare(self, K, Y, k_thresh, t=None):
        """Validate; set ``alpha_``, ``kappa_``, ``polynomial_``, ``k_thresh_``..."""
        self._validate_params()
        K, Y = check_system(K, Y)  # square, finite, symmetric
        self.time_ = t = check_time(t)
        self._check_input(K)
        name = type(self).__name__
        if t is None:
            bounds = block_encoding_bounds(K, self.alpha, self.kappa)
            try:
                self._set_bounds(self._adjust_bounds(K, bounds))
            except ValueError as exc:  # over the degree budget: say why
                if "`max_degree`" not in str(exc) or "polynomial" not in str(exc):
                    raise
                degree = inverse_degree_bound(self.kappa_, self.epsilon)
                if degree <= self._degree_budget():
                    raise  # PennyLaneSolver's own limit on the actual degree
                message = degree_budget_message(
                    self.kappa_,
                    self.epsilon,
                    degree,
                    self._degree_budget(),
                    cause=describe_singularity(K),
                )
                raise ValueError(f"{name}: {message}") from None
        else:
            check_time_system(K, t, solver=name)
            bounds = block_encoding_bounds(K, self.alpha, self.kappa, invertible=False)
            self._set_time_bounds(self._adjust_bounds(K, bounds), t)
        diag = K.diagonal() if sp.issparse(K) else np.diag(K)
        if k_thresh is None:
            k_thresh = float(np.abs(diag).max())
        if not (
            isinstance(k_thresh, Real) and math.isfinite(k_thresh) and k_thresh > 0
        ):
            raise ValueError(
                "`k_thresh` must be a positive finite number (or None for "
                f"max |diag K|); got {k_thresh!r}."
            )
        self.k_thresh_ = float(k_thresh)
        self.seed_ = int(check_random_state(self.random_state).randint(0, 2**31 - 1))
        return K, Y

    def _check_input(self, K):
        pass

    def _adjust_bounds(self, K, bounds):
        return bounds

    def _degree_budget(self):
        return MAX_DEGREE

    def _set_bounds(self, bounds):
        self.alpha_ = bounds["alpha"]
        self.kappa_ = bounds["kappa"]
        self.spectral_bounds_ = bounds
        self.polynomial_ = inverse_polynomial(
            self.kappa_, self.epsilon, max_degree=self._degree_budget()
        )
        self.degree_ = self.polynomial_.degree

    def _set_time_bounds(self, bounds, t):
        """Finite training time: the bounded polynomial of ``(1 - exp(-tau x)) / x``."""
        self.alpha_ = bounds["alpha"]
        self.kappa_ = bounds["kappa"]
        self.spectral_bounds_ = bounds
        self.polynomial_ = gradient_flow_polynomial(
            t * self.alpha_, self.epsilon, max_degree=self._degree_budget()
        )
        self.degree_ = self.polynomial_.degree

    def _set_solution(self, PY, Y):
        """``dual_coef_`` and success probabilities from ``P(K/alpha) Y``."""
        y_norm = np.linalg.norm(Y, axis=0)
        out_norm = np.linalg.norm(PY, axis=0)
        safe = np.where(y_norm > 0, y_norm, 1.0)
        self.success_probability_ = np.where(y_norm > 0, (out_norm / safe) ** 2, 0.0)
        self.dual_coef_ = PY / (self.polynomial_.x_scale * self.alpha_)

    # --- readout ---------------------------------------------------------------------
    def _check_K_star(self, K_star):
        check_is_fitted(self, "dual_coef_")
        if sp.issparse(K_star):
            K_star = K_star.toarray()
        K_star = np.asarray(K_star, dtype=np.float64)
        n = self.dual_coef_.shape[0]
        if K_star.ndim != 2 or K_star.shape[1] != n:
            raise ValueError(
                f"`K_star` must have shape (n_queries, {n}); got {K_star.shape}."
            )
        if not np.isfinite(K_star).all():
            raise ValueError(
                "`K_star` must contain only finite values; got NaN or inf."
            )
        return K_star

    def _overlaps(self, k, k_norm, c_norm):
        """Noiseless overlaps ``<k*|x_j>`` of shape (n_queries, n_targets).

        ``k`` are the unnormalised clipped rows, ``k_norm`` their norms and
        ``c_norm`` the norms of the columns of ``dual_coef_``.
        """
        denominator = k_norm[:, None] * c_norm[None, :]
        return (k @ self.dual_coef_) / np.where(denominator > 0, denominator, 1.0)

    def decision_function(self, K_star):
        """Decision values: the Hadamard-test estimates of ``K_star @ K^-1 Y``.

        For each query row: ``k = clip(K_star_row / k_thresh_, -1, 1)``, the overlap
        ``o_j = <k/||k|| | x_j/||x_j||>`` with the QSVT output state of target ``j``,
        estimated from ``shots`` Hadamard-test outcomes (``P(0) = (1 + o_j) / 2``),
        and rescaled by the known norms:
        ``k_thresh_ * ||k|| * ||dual_coef_[:, j]|| * o_hat``.

        Parameters
        ----------
        K_star : {ndarray, sparse matrix} of shape (n_queries, n_samples)
            Kernel between query points and training points.

        Returns
        -------
        decision : ndarray of shape (n_queries, n_targets)
            Unbiased estimates of ``k^T dual_coef_`` (exact when ``shots=None``).
            Reproducible: the randomness of a row depends only on ``seed_`` and the
            row's values (a hash of up to 256 of its entries), so repeated calls,
            and any batching of the rows, agree.
        """
        K_star = self._check_K_star(K_star)
        n_q, n = K_star.shape
        c_norm = np.linalg.norm(self.dual_coef_, axis=0)
        out = np.empty((n_q, c_norm.size))
        step = max(1, _READOUT_BLOCK_ENTRIES // max(n, 1))
        for start in range(0, n_q, step):
            rows = K_star[start : start + step]
            k, P = clip_kernel_rows(rows, self.k_thresh_)
            k_norm = np.sqrt(P)
            overlaps = np.clip(self._overlaps(k, k_norm, c_norm), -1.0, 1.0)
            if self.shots is not None:
                overlaps = self._sample_overlaps(overlaps, rows)
            scale = self.k_thresh_ * k_norm[:, None] * c_norm[None, :]
            out[start : start + step] = scale * overlaps
        return out

    def measurement_costs(self, K_star):
        """The paper's measurement counts for reading out these query rows.

        Parameters
        ----------
        K_star : {ndarray, sparse matrix} of shape (n_queries, n_samples)

        Returns
        -------
        costs : dict
            ``"post_selection_rowmax"``, ``"post_selection_paper"``,
            ``"post_selection_kthresh"``: ndarrays (n_queries,), ``n / P``
            attempts to prepare ``|k*>`` with each clipped row scaled by its own
            maximum (inductive), by the maximum over these rows taken as one batch
            (the paper's), or by ``k_thresh_`` alone (see
            :func:`~qntk_sklearn.solvers.post_selection_counts`); ``"readout"``:
            ndarray (n_queries, n_targets), ``1/o^2 - 1`` measurements to resolve
            the sign of the overlap ``o``; ``"qsvt_repetitions"``: ndarray
            (n_targets,), ``1 / success_probability_`` QSVT runs per post-selected
            state without amplitude amplification.
        """
        from ._readout import post_selection_counts

        K_star = self._check_K_star(K_star)
        c_norm = np.linalg.norm(self.dual_coef_, axis=0)
        k, P = clip_kernel_rows(K_star, self.k_thresh_)
        o = np.abs(self._overlaps(k, np.sqrt(P), c_norm))
        post = post_selection_counts(K_star, self.k_thresh_)
        with np.errstate(divide="ignore"):
            return {
                "post_selection_rowmax": post["rowmax"],
                "post_selection_paper": post["paper"],
                "post_selection_kthresh": post["kthresh"],
                "readout": np.where(o > 0, 1.0 / o**2 - 1.0, np.inf),
                "qsvt_repetitions": 1.0 / self.success_probability_,
            }

    def _sample_overlaps(self, overlaps, K_star):
        """Hadamard test: ``o_hat = 2 m / S - 1``, ``m ~ Binomial(S, (1 + o) / 2)``."""
        shots = int(self.shots)
        out = np.empty_like(overlaps)
        for i, seq in enumerate(_row_seeds(self.seed_, K_star)):
            m = np.random.default_rng(seq).binomial(shots, (1.0 + overlaps[i]) / 2.0)
            out[i] = 2.0 * m / shots - 1.0
        return out


_COMMON_PARAMETERS = """alpha : {"norm", "sparse"} or float, default="norm"
        Block-encoding normalisation ``alpha >= ||K||``: the solver inverts
        ``K / alpha``. "norm": a safe upper bound on the spectral norm (Lanczos
        estimate with a 1% margin, capped by Gershgorin; exact for small matrices), the
        idealised block-encoding. "sparse": ``s * max|K_ij|``, what the standard
        sparse-access oracle block-encoding gives (Gilyén et al., Lemma 48); larger by
        about ``s``, hence a larger ``kappa``, polynomial degree and query count. A
        float: a known bound, checked against the estimated norm.
    kappa : "auto" or float >= 1, default="auto"
        Bound on the condition number of ``K / alpha`` (every eigenvalue has
        ``1/kappa <= |lambda| <= 1``). "auto": ``alpha`` over a safe lower bound on
        ``min|lambda(K)|`` (Lanczos / shift-invert with a 1% margin, Gershgorin when
        it certifies definiteness; see :func:`block_encoding_bounds`).
    shots : int or None, default=None
        Hadamard-test measurements per decision value (per query and target), each
        counted after successful post-selection. None: infinitely many, i.e. the
        exact overlap.
    random_state : int, RandomState instance or None, default=None
        Seeds the measurement outcomes. A seed ``seed_`` is drawn from it at ``fit``;
        every row of ``K_star`` then gets its own generator from ``seed_`` and the
        row's values, so predictions of a fitted solver are reproducible."""

_COMMON_ATTRIBUTES = """dual_coef_ : ndarray of shape (n_samples, n_targets)
        ``P(K/alpha_) Y / (x_scale * alpha_)``: the QSVT output (before
        normalisation) rescaled by the known factors, so ``K_star @ dual_coef_``
        estimates ``K_star @ K^-1 Y`` within relative error ``epsilon``.
    alpha_ : float
        Block-encoding normalisation used.
    kappa_ : float
        Condition bound of ``K / alpha_`` the polynomial covers (for a finite
        training time ``t``, the bound of ``K`` itself, inf if it is singular).
    polynomial_ : InversePolynomial or GradientFlowPolynomial
        The odd polynomial ``P(x) ≈ x_scale / x`` (see :func:`inverse_polynomial`);
        for a finite ``t``, ``P(x) ≈ x_scale (1 - exp(-t alpha x)) / x`` (see
        :func:`gradient_flow_polynomial`).
    time_ : float or None
        The training time ``t`` given to ``fit`` (None: infinite).
    degree_ : int
        Its degree: block-encoding queries of one QSVT circuit.
    spectral_bounds_ : dict
        What :func:`block_encoding_bounds` returned.
    success_probability_ : ndarray of shape (n_targets,)
        Probability that the QSVT post-selection succeeds, ``||P(K/alpha_) y||^2 /
        ||y||^2`` per target; about ``1 / success_probability_`` repetitions (or the
        square root of that with amplitude amplification) prepare the state.
    k_thresh_ : float
        Clipping scale of ``|k*>`` (the ``k_thresh`` given to ``fit``, or
        ``max |diag K|``).
    seed_ : int
        Seed of the measurement outcomes, drawn from ``random_state`` at fit.
    classical_cost_ : dict
        What the emulation spent: ``degree_`` sparse products per target."""


class QSVTSolver(_QSVTSolverBase):
    """Emulated QSVT linear solver with the paper's state preparation and readout.

    ``fit`` computes the quantum singular value transformation's output state
    ``P(K/alpha) |y>`` exactly, by ``degree`` sparse matrix products (Clenshaw's
    recurrence on the Chebyshev series of :func:`inverse_polynomial`), so it runs at
    n = 100,000 and never builds an n x n array from a sparse ``K``. Symmetric
    indefinite matrices work: ``P`` is odd and approximates ``x_scale / x`` on both
    ``[-1, -1/kappa]`` and ``[1/kappa, 1]``. One quantum run per target column.

    ``decision_function`` models the rest of the pipeline: ``|k*>`` is prepared from
    the clipped kernel row ``k_i = clip(Theta(x*, x_i) / k_thresh, -1, 1)`` and its
    overlap with the post-selected QSVT state is read out by a Hadamard test with
    ``shots`` measurements, rescaled by the known norms into an unbiased estimate of
    ``k^T K^-1 y``.

    Parameters
    ----------
    epsilon : float, default=1e-3
        Relative accuracy of the inversion, in (0, 1): the noiseless decision values
        satisfy ``|d - k^T K^-1 y| <= epsilon ||k|| ||K^-1 y||`` (the polynomial's
        relative error bound, applied eigenvalue by eigenvalue). 1e-3 is well below
        the statistical error of any practical number of shots and keeps the degree
        ``O(kappa log(kappa/epsilon))`` small.
    {common_parameters}
    max_degree : int, default=1_000_000
        Degree budget of the polynomial (``MAX_DEGREE``; about ``kappa <= 3e4`` at
        ``epsilon=1e-3``). Fitting a system whose closed-form degree bound
        (:func:`inverse_degree_bound`) exceeds it is a ValueError raised before
        anything is allocated, naming ``kappa``, the degree and the remedies. Memory
        is O(degree + n * n_targets) beyond ``K``, time ``degree`` products with
        ``K`` per target.

    Attributes
    ----------
    {common_attributes}

    See Also
    --------
    PennyLaneSolver : the same algorithm as PennyLane circuits, for n <= 64.
    estimate_quantum_resources : qubits, queries and measurements of this solve.

    Notes
    -----
    The QSVT circuit with ``degree_`` queries to a block-encoding of ``K / alpha``
    maps ``|0>|y>`` to ``|0> P(K/alpha)|y> + |1>|garbage>``; post-selecting the
    ancilla on ``|0>`` succeeds with probability ``success_probability_``. Since
    ``P(x) ≈ x_scale / x`` on the spectrum, the post-selected state is proportional
    to ``K^-1 y`` up to relative error ``epsilon``; its norm, ``x_scale`` and
    ``alpha`` are known classically, which turns the measured overlap into a
    decision value. The Hadamard test's outcome 0 has probability ``(1 + o) / 2``, so
    ``o_hat = 2 m / shots - 1`` is unbiased with variance ``(1 - o^2) / shots``.
    Preparing ``|k*>`` by post-selection succeeds with probability ``P / n``,
    ``P = sum_i k_i^2`` (the paper's ``n / P`` cost); it is reported by
    :meth:`measurement_costs` and :func:`estimate_quantum_resources`, not sampled.

    References
    ----------
    .. [1] A. Zlokapa, H. Neven, S. Lloyd, "A quantum algorithm for training wide and
       deep classical neural networks", arXiv:2107.09200 (2021).
    .. [2] A. Gilyén, Y. Su, G. H. Low, N. Wiebe, "Quantum singular value
       transformation and beyond", STOC 2019.
    .. [3] A. M. Childs, R. Kothari, R. D. Somma, "Quantum algorithm for systems of
       linear equations with exponentially improved dependence on precision", SIAM
       J. Comput. 46, 1920 (2017).
    .. [4] A. W. Harrow, A. Hassidim, S. Lloyd, "Quantum algorithm for linear systems
       of equations", Phys. Rev. Lett. 103, 150502 (2009).

    Examples
    --------
    >>> import numpy as np
    >>> from qntk_sklearn.solvers import QSVTSolver
    >>> K = np.array([[2.0, 0.5], [0.5, 1.0]])
    >>> y = np.array([1.0, -1.0])
    >>> s = QSVTSolver(epsilon=1e-6).fit(K, y)
    >>> s.degree_, np.round(s.dual_coef_.ravel(), 5)
    (75, array([ 0.85714, -1.42857]))
    >>> s.decision_function(K).round(4).ravel()   # K K^-1 y = y
    array([ 1., -1.])
    >>> noisy = QSVTSolver(shots=1000, random_state=0).fit(K, y)
    >>> d = noisy.decision_function(K)
    >>> bool(np.all(d == noisy.decision_function(K)))   # reproducible
    True
    """

    _parameter_constraints = {
        **_QSVTSolverBase._parameter_constraints,
        "max_degree": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        epsilon=1e-3,
        alpha="norm",
        kappa="auto",
        shots=None,
        random_state=None,
        max_degree=MAX_DEGREE,
    ):
        self.epsilon = epsilon
        self.alpha = alpha
        self.kappa = kappa
        self.shots = shots
        self.random_state = random_state
        self.max_degree = max_degree

    def _degree_budget(self):
        return self.max_degree

    def fit(self, K, Y, *, k_thresh=None, t=None):
        """Emulate the QSVT inversion of ``K`` on every column of ``Y``.

        Parameters
        ----------
        K : {ndarray, sparse matrix} of shape (n_samples, n_samples)
            Symmetric, invertible (sparsified) training kernel. Sparse input stays
            sparse.
        Y : ndarray of shape (n_samples,) or (n_samples, n_targets)
        k_thresh : float or None, default=None
            Clipping scale for ``|k*>``; None means ``max |diag K|``.
        t : float or None, default=None
            Finite training time: the circuit applies the bounded polynomial of
            ``(1 - exp(-t alpha x)) / x`` (:func:`~qntk_sklearn.solvers._evolution.\
gradient_flow_polynomial`) instead of the inverse, so ``dual_coef_`` estimates
            ``K^-1 (I - exp(-t K)) Y``; its degree grows with ``t alpha``, not with
            the condition number, and a singular ``K`` is fine. ``K`` must be
            positive semi-definite.

        Returns
        -------
        self : QSVTSolver
        """
        K, Y = self._prepare(K, Y, k_thresh, t)
        A = K * (1.0 / self.alpha_)
        PY = self.polynomial_.apply(A, Y)
        self._set_solution(PY, Y)
        nnz = int(K.nnz) if sp.issparse(K) else int(K.shape[0]) ** 2
        n_targets = Y.shape[1]
        self.classical_cost_ = {
            "method": "qsvt-emulation",
            "iterations": [self.degree_] * n_targets,
            "nnz": nnz,
            "flops": float(2 * nnz * self.degree_ * n_targets),
        }
        check_solution(K, Y, self.dual_coef_, solver="QSVTSolver")
        return self


if QSVTSolver.__doc__:  # None under python -OO
    QSVTSolver.__doc__ = QSVTSolver.__doc__.format(
        common_parameters=_COMMON_PARAMETERS, common_attributes=_COMMON_ATTRIBUTES
    )
